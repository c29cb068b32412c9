package asm

import (
	"fmt"
	"os"
	"strings"

	"github.com/klauspost/cpuid/v2"
)

// Kernel path names, as accepted by SetKernel and SPROUT_KERNEL.
const (
	Generic = "generic" // pure Go, every platform
	AVX2    = "avx2"    // amd64 with AVX2 and FMA3
	AVX512  = "avx512"  // amd64 with AVX-512 F (and VL, BW)
	NEON    = "neon"    // arm64 Advanced SIMD
)

// CPU features, read once. Tests may switch them off to check that forcing an
// unsupported path fails cleanly.
var (
	cpuAVX2FMA = cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3)
	cpuAVX512  = cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512BW)
	cpuASIMD   = cpuid.CPU.Supports(cpuid.ASIMD)
)

// The active path. The kernels read these flags on every call; SetKernel is
// the only writer. useAVX2 stays true on the AVX-512 path so that kernels
// without an AVX-512 form fall back to their AVX2 form.
var (
	active    = Generic
	useAVX2   bool
	useAVX512 bool
	useNEON   bool
)

// avx512Validated records that the AVX-512 path has passed the whole test
// suite (SPROUT_KERNEL=avx512 go test ./...) on real AVX-512 hardware, so
// that Best may pick it. While it is false the AVX-512 path is opt-in
// (SPROUT_KERNEL=avx512 or SetKernel(AVX512)), never the default. The
// machines it passed on:
// docs/experiments.md#when-avx-512-became-the-default-path.
const avx512Validated = true

func init() {
	if env := strings.TrimSpace(os.Getenv("SPROUT_KERNEL")); env != "" {
		if err := SetKernel(env); err != nil {
			// A bad override must not crash a program that imports us;
			// say so once and keep the best supported path.
			fmt.Fprintf(os.Stderr, "sprout: ignoring SPROUT_KERNEL: %v\n", err)
			SetKernel(Best())
		}
		return
	}
	SetKernel(Best())
}

// Kernel names the active kernel path: "generic", "avx2", "avx512" or "neon".
func Kernel() string { return active }

// Supported lists the kernel paths this build can run on this CPU, the
// generic path first.
func Supported() []string {
	s := []string{Generic}
	if !haveAsm {
		return s
	}
	if archAMD64 && cpuAVX2FMA {
		s = append(s, AVX2)
	}
	if archAMD64 && cpuAVX2FMA && cpuAVX512 {
		s = append(s, AVX512)
	}
	if archARM64 && cpuASIMD {
		s = append(s, NEON)
	}
	return s
}

// Best names the path dispatch picks by default on this CPU.
func Best() string {
	best := Generic
	for _, p := range Supported() {
		if p == AVX512 && !avx512Validated {
			continue
		}
		best = p
	}
	return best
}

// SetKernel forces a kernel path. It returns an error naming the path when the
// name is unknown or the path cannot run here (not compiled in, or a CPU
// feature is missing); the active path is then left unchanged. It is not safe
// to call while kernels are running on other goroutines.
func SetKernel(name string) error {
	switch name {
	case Generic, AVX2, AVX512, NEON:
	default:
		return fmt.Errorf("asm: unknown kernel path %q (want generic, avx2, avx512 or neon)", name)
	}
	ok := false
	for _, p := range Supported() {
		ok = ok || p == name
	}
	if !ok {
		why := "this CPU lacks the features it needs"
		if !haveAsm {
			why = "this build has no assembly (noasm or purego tag, or an unsupported GOARCH)"
		} else if (name == NEON && !archARM64) || ((name == AVX2 || name == AVX512) && !archAMD64) {
			why = "it is not built for this GOARCH"
		}
		return fmt.Errorf("asm: kernel path %q is not supported: %s", name, why)
	}
	active = name
	useAVX512 = name == AVX512
	useAVX2 = name == AVX2 || name == AVX512
	useNEON = name == NEON
	return nil
}
