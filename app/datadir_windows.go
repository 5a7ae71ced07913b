package app

import "os"

func platformDataDir() string { return os.Getenv("LOCALAPPDATA") }
