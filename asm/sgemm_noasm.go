//go:build !(amd64 || arm64) || !gc || purego || noasm

package asm

// Without assembly every call takes the generic micro-kernel.

func asmKernel() *gemmKernel { return nil }

func asmPeak() (func(iters int), float64) { return nil, 0 }
