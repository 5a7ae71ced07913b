//go:build !windows

package service

import "syscall"

func umask(m int) int { return syscall.Umask(m) }
