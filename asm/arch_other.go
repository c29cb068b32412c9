//go:build !amd64 && !arm64

package asm

const (
	archAMD64 = false
	archARM64 = false
)
