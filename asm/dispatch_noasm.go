//go:build !(amd64 || arm64) || !gc || purego || noasm

package asm

const haveAsm = false
