package app

func umask(m int) int { return 0 }
