package interop

// Independent references for the tests: float64 forward passes of GPT-2 and
// LLaMA written from the Hugging Face and llama.cpp definitions, a
// safetensors encoder for fixtures of any dtype, and a small GGUF reader.
// None of them uses the code under test.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"
)

// ref is a model's tensors in float64, by name, with their shapes.
type ref struct {
	t     map[string][]float64
	shape map[string][]int
}

func (r ref) get(tb testing.TB, name string) []float64 {
	tb.Helper()
	v, ok := r.t[name]
	if !ok {
		tb.Fatalf("reference: no tensor %q", name)
	}
	return v
}

// matVec returns y = W x for a weight stored either [in, out] (Conv1D,
// sprout) or [out, in] (nn.Linear, ggml with ne = (in, out)).
func matVec(w, x []float64, in, out int, outIn bool) []float64 {
	y := make([]float64, out)
	for o := 0; o < out; o++ {
		var s float64
		for i := 0; i < in; i++ {
			if outIn {
				s += w[o*in+i] * x[i]
			} else {
				s += w[i*out+o] * x[i]
			}
		}
		y[o] = s
	}
	return y
}

func addTo(y, b []float64) {
	for i := range y {
		y[i] += b[i]
	}
}

func layerNorm(x, g, b []float64, eps float64) []float64 {
	var mean, v float64
	for _, a := range x {
		mean += a
	}
	mean /= float64(len(x))
	for _, a := range x {
		v += (a - mean) * (a - mean)
	}
	v /= float64(len(x))
	y := make([]float64, len(x))
	for i, a := range x {
		y[i] = (a-mean)/math.Sqrt(v+eps)*g[i] + b[i]
	}
	return y
}

func rmsNorm(x, g []float64, eps float64) []float64 {
	var ms float64
	for _, a := range x {
		ms += a * a
	}
	ms /= float64(len(x))
	y := make([]float64, len(x))
	for i, a := range x {
		y[i] = a / math.Sqrt(ms+eps) * g[i]
	}
	return y
}

// geluNew is transformers' "gelu_new", the tanh approximation.
func geluNew(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

func silu(x float64) float64 { return x / (1 + math.Exp(-x)) }

// attend returns causal multi-head attention at every position: q[t], k[t],
// v[t] per position, heads of hd values; query head h reads key/value head
// h/(H/KVH) (transformers' repeat_kv).
func attend(q, k, v [][]float64, H, KVH, hd int) [][]float64 {
	T := len(q)
	out := make([][]float64, T)
	for t := 0; t < T; t++ {
		out[t] = make([]float64, H*hd)
		for h := 0; h < H; h++ {
			kh := h / (H / KVH)
			s := make([]float64, t+1)
			mx := math.Inf(-1)
			for u := 0; u <= t; u++ {
				var dot float64
				for i := 0; i < hd; i++ {
					dot += q[t][h*hd+i] * k[u][kh*hd+i]
				}
				s[u] = dot / math.Sqrt(float64(hd))
				mx = math.Max(mx, s[u])
			}
			var z float64
			for u := range s {
				s[u] = math.Exp(s[u] - mx)
				z += s[u]
			}
			for u := range s {
				for i := 0; i < hd; i++ {
					out[t][h*hd+i] += s[u] / z * v[u][kh*hd+i]
				}
			}
		}
	}
	return out
}

// gpt2Names are the tensor names of one format for a GPT-2 forward pass.
type gpt2Names struct {
	wte, wpe, lnfW, lnfB, head string
	block                      func(l int, what string) string // what: ln1.w ln1.b qkv.w qkv.b proj.w proj.b ln2.w ln2.b fc.w fc.b out.w out.b
	outIn                      bool                            // matrices stored [out, in]
}

var hfGPT2Names = gpt2Names{
	wte: "wte.weight", wpe: "wpe.weight", lnfW: "ln_f.weight", lnfB: "ln_f.bias", head: "wte.weight",
	block: func(l int, what string) string {
		n := map[string]string{"ln1.w": "ln_1.weight", "ln1.b": "ln_1.bias", "qkv.w": "attn.c_attn.weight", "qkv.b": "attn.c_attn.bias",
			"proj.w": "attn.c_proj.weight", "proj.b": "attn.c_proj.bias", "ln2.w": "ln_2.weight", "ln2.b": "ln_2.bias",
			"fc.w": "mlp.c_fc.weight", "fc.b": "mlp.c_fc.bias", "out.w": "mlp.c_proj.weight", "out.b": "mlp.c_proj.bias"}[what]
		return fmt.Sprintf("h.%d.%s", l, n)
	},
}

var ggufGPT2Names = gpt2Names{
	wte: "token_embd.weight", wpe: "position_embd.weight", lnfW: "output_norm.weight", lnfB: "output_norm.bias", head: "output.weight",
	block: func(l int, what string) string {
		n := map[string]string{"ln1.w": "attn_norm.weight", "ln1.b": "attn_norm.bias", "qkv.w": "attn_qkv.weight", "qkv.b": "attn_qkv.bias",
			"proj.w": "attn_output.weight", "proj.b": "attn_output.bias", "ln2.w": "ffn_norm.weight", "ln2.b": "ffn_norm.bias",
			"fc.w": "ffn_up.weight", "fc.b": "ffn_up.bias", "out.w": "ffn_down.weight", "out.b": "ffn_down.bias"}[what]
		return fmt.Sprintf("blk.%d.%s", l, n)
	},
	outIn: true,
}

// gpt2Forward returns the logits (T x vocab) of GPT-2 on tokens.
func gpt2Forward(tb testing.TB, r ref, n gpt2Names, d, H, L, vocab int, eps float64, tokens []int32) [][]float64 {
	wte, wpe := r.get(tb, n.wte), r.get(tb, n.wpe)
	T := len(tokens)
	x := make([][]float64, T)
	for t, tok := range tokens {
		x[t] = make([]float64, d)
		for i := range x[t] {
			x[t][i] = wte[int(tok)*d+i] + wpe[t*d+i]
		}
	}
	hd := d / H
	for l := 0; l < L; l++ {
		b := func(what string) []float64 { return r.get(tb, n.block(l, what)) }
		q, k, v := make([][]float64, T), make([][]float64, T), make([][]float64, T)
		for t := range x {
			h := layerNorm(x[t], b("ln1.w"), b("ln1.b"), eps)
			qkv := matVec(b("qkv.w"), h, d, 3*d, n.outIn)
			addTo(qkv, b("qkv.b"))
			q[t], k[t], v[t] = qkv[:d], qkv[d:2*d], qkv[2*d:]
		}
		a := attend(q, k, v, H, H, hd)
		for t := range x {
			o := matVec(b("proj.w"), a[t], d, d, n.outIn)
			addTo(o, b("proj.b"))
			addTo(x[t], o)
			h := layerNorm(x[t], b("ln2.w"), b("ln2.b"), eps)
			f := matVec(b("fc.w"), h, d, 4*d, n.outIn)
			addTo(f, b("fc.b"))
			for i := range f {
				f[i] = geluNew(f[i])
			}
			o = matVec(b("out.w"), f, 4*d, d, n.outIn)
			addTo(o, b("out.b"))
			addTo(x[t], o)
		}
	}
	head := r.get(tb, n.head)
	logits := make([][]float64, T)
	for t := range x {
		h := layerNorm(x[t], r.get(tb, n.lnfW), r.get(tb, n.lnfB), eps)
		logits[t] = matVec(head, h, d, vocab, true) // [vocab, d]
	}
	return logits
}

// llamaNames are the tensor names of one format for a LLaMA forward pass.
type llamaNames struct {
	embed, norm, head string
	block             func(l int, what string) string // what: in_norm q k v o post_norm gate up down
	// interleaved: RoPE rotates pairs (2i, 2i+1) (llama.cpp's "normal"
	// rope) rather than (i, i+hd/2) (transformers' rotate_half).
	interleaved bool
}

var hfLlamaNames = llamaNames{
	embed: "model.embed_tokens.weight", norm: "model.norm.weight", head: "lm_head.weight",
	block: func(l int, what string) string {
		n := map[string]string{"in_norm": "input_layernorm.weight", "q": "self_attn.q_proj.weight", "k": "self_attn.k_proj.weight",
			"v": "self_attn.v_proj.weight", "o": "self_attn.o_proj.weight", "post_norm": "post_attention_layernorm.weight",
			"gate": "mlp.gate_proj.weight", "up": "mlp.up_proj.weight", "down": "mlp.down_proj.weight"}[what]
		return fmt.Sprintf("model.layers.%d.%s", l, n)
	},
}

var ggufLlamaNames = llamaNames{
	embed: "token_embd.weight", norm: "output_norm.weight", head: "output.weight",
	block: func(l int, what string) string {
		n := map[string]string{"in_norm": "attn_norm.weight", "q": "attn_q.weight", "k": "attn_k.weight",
			"v": "attn_v.weight", "o": "attn_output.weight", "post_norm": "ffn_norm.weight",
			"gate": "ffn_gate.weight", "up": "ffn_up.weight", "down": "ffn_down.weight"}[what]
		return fmt.Sprintf("blk.%d.%s", l, n)
	},
	interleaved: true,
}

type llamaDims struct {
	d, H, KVH, L, F, vocab int
	eps, base              float64
	tied                   bool
}

// rope rotates each head of x at position p.
func rope(x []float64, p, hd int, base float64, interleaved bool) {
	for h := 0; h < len(x)/hd; h++ {
		for i := 0; i < hd/2; i++ {
			th := float64(p) * math.Pow(base, -2*float64(i)/float64(hd))
			a, b := h*hd+i, h*hd+i+hd/2
			if interleaved {
				a, b = h*hd+2*i, h*hd+2*i+1
			}
			xa, xb := x[a], x[b]
			x[a] = xa*math.Cos(th) - xb*math.Sin(th)
			x[b] = xb*math.Cos(th) + xa*math.Sin(th)
		}
	}
}

// llamaForward returns the logits (T x vocab) of LLaMA on tokens; all
// matrices are [out, in].
func llamaForward(tb testing.TB, r ref, n llamaNames, c llamaDims, tokens []int32) [][]float64 {
	emb := r.get(tb, n.embed)
	d, hd := c.d, c.d/c.H
	kd := c.KVH * hd
	T := len(tokens)
	x := make([][]float64, T)
	for t, tok := range tokens {
		x[t] = append([]float64(nil), emb[int(tok)*d:(int(tok)+1)*d]...)
	}
	for l := 0; l < c.L; l++ {
		b := func(what string) []float64 { return r.get(tb, n.block(l, what)) }
		q, k, v := make([][]float64, T), make([][]float64, T), make([][]float64, T)
		for t := range x {
			h := rmsNorm(x[t], b("in_norm"), c.eps)
			q[t] = matVec(b("q"), h, d, d, true)
			k[t] = matVec(b("k"), h, d, kd, true)
			v[t] = matVec(b("v"), h, d, kd, true)
			rope(q[t], t, hd, c.base, n.interleaved)
			rope(k[t], t, hd, c.base, n.interleaved)
		}
		a := attend(q, k, v, c.H, c.KVH, hd)
		for t := range x {
			addTo(x[t], matVec(b("o"), a[t], d, d, true))
			h := rmsNorm(x[t], b("post_norm"), c.eps)
			g := matVec(b("gate"), h, d, c.F, true)
			u := matVec(b("up"), h, d, c.F, true)
			for i := range g {
				g[i] = silu(g[i]) * u[i]
			}
			addTo(x[t], matVec(b("down"), g, c.F, d, true))
		}
	}
	head := n.head
	if c.tied {
		head = n.embed
	}
	w := r.get(tb, head)
	logits := make([][]float64, T)
	for t := range x {
		logits[t] = matVec(w, rmsNorm(x[t], r.get(tb, n.norm), c.eps), d, c.vocab, true)
	}
	return logits
}

// closeLogits fails unless got (float32, T x vocab) matches want within tol
// relative to the largest logit.
func closeLogits(tb testing.TB, what string, got []float32, want [][]float64, tol float64) {
	tb.Helper()
	scale := 1.0
	for _, row := range want {
		for _, v := range row {
			scale = math.Max(scale, math.Abs(v))
		}
	}
	worst := 0.0
	for t, row := range want {
		for i, v := range row {
			worst = math.Max(worst, math.Abs(float64(got[t*len(row)+i])-v))
		}
	}
	if worst > tol*scale {
		tb.Fatalf("%s: logits differ from the float64 reference by %.3g (scale %.3g, tolerance %.3g)", what, worst, scale, tol*scale)
	}
}

// stTensor is a fixture tensor: raw little-endian bytes of any dtype.
type stTensor struct {
	name, dtype string
	shape       []int
	raw         []byte
}

// writeST writes a safetensors file from scratch.
func writeST(tb testing.TB, path string, ts []stTensor) {
	tb.Helper()
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var data []byte
	for _, t := range ts {
		header[t.name] = map[string]any{"dtype": t.dtype, "shape": t.shape, "data_offsets": []int{len(data), len(data) + len(t.raw)}}
		data = append(data, t.raw...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		tb.Fatal(err)
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	b = append(append(b, h...), data...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// randomTensor draws a tensor of dtype whose values are exact in that dtype:
// random bit patterns of moderate magnitude, decoded here in float64. It
// returns the fixture tensor and its values.
func randomTensor(rng *rand.Rand, name, dtype string, shape []int, std, mean float64) (stTensor, []float64) {
	n := 1
	for _, s := range shape {
		n *= s
	}
	vals := make([]float64, n)
	var raw []byte
	for i := range vals {
		x := mean + std*rng.NormFloat64()
		switch dtype {
		case "F32":
			f := float32(x)
			vals[i] = float64(f)
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
		case "BF16":
			bits := uint16(math.Float32bits(float32(x)) >> 16) // truncation: any bf16 will do
			vals[i] = float64(math.Float32frombits(uint32(bits) << 16))
			raw = binary.LittleEndian.AppendUint16(raw, bits)
		case "F16":
			// sign, 5-bit exponent, 10-bit mantissa: |x| = 2^(e-15) (1 + m/1024)
			sign, ax := uint16(0), math.Abs(x)
			if x < 0 {
				sign = 1
			}
			e := int(math.Floor(math.Log2(ax)))
			e = max(-14, min(15, e))
			m := int(ax/math.Ldexp(1, e)*1024) - 1024
			m = max(0, min(1023, m))
			bits := sign<<15 | uint16(e+15)<<10 | uint16(m)
			vals[i] = math.Ldexp(1+float64(m)/1024, e)
			if sign == 1 {
				vals[i] = -vals[i]
			}
			raw = binary.LittleEndian.AppendUint16(raw, bits)
		default:
			panic(dtype)
		}
	}
	return stTensor{name: name, dtype: dtype, shape: shape, raw: raw}, vals
}

// ggufFile is what the test's GGUF reader found.
type ggufFile struct {
	version  uint32
	kv       map[string]any
	kvType   map[string]uint32 // value type, array element type in kvElem
	kvElem   map[string]uint32
	keys     []string // in file order
	align    int
	infos    []ggufInfo
	tensors  map[string][]float64
	dataBase int
}

type ggufInfo struct {
	name   string
	ne     []uint64
	typ    uint32
	offset uint64
}

// readGGUF parses a GGUF v3 file following the format's description,
// failing the test on anything malformed.
func readGGUF(tb testing.TB, b []byte) *ggufFile {
	tb.Helper()
	off := 0
	need := func(n int) []byte {
		if off+n > len(b) {
			tb.Fatalf("gguf: file ends at %d, wanted %d more bytes at %d", len(b), n, off)
		}
		p := b[off : off+n]
		off += n
		return p
	}
	u8 := func() uint8 { return need(1)[0] }
	u16 := func() uint16 { return binary.LittleEndian.Uint16(need(2)) }
	u32 := func() uint32 { return binary.LittleEndian.Uint32(need(4)) }
	u64 := func() uint64 { return binary.LittleEndian.Uint64(need(8)) }
	str := func() string { return string(need(int(u64()))) }
	var scalar func(t uint32) any
	scalar = func(t uint32) any {
		switch t {
		case 0:
			return u8()
		case 1:
			return int8(u8())
		case 2:
			return u16()
		case 3:
			return int16(u16())
		case 4:
			return u32()
		case 5:
			return int32(u32())
		case 6:
			return math.Float32frombits(u32())
		case 7:
			v := u8()
			if v > 1 {
				tb.Fatalf("gguf: bool %d", v)
			}
			return v == 1
		case 8:
			return str()
		case 10:
			return u64()
		case 11:
			return int64(u64())
		case 12:
			return math.Float64frombits(u64())
		}
		tb.Fatalf("gguf: value type %d", t)
		return nil
	}
	if string(need(4)) != "GGUF" {
		tb.Fatal("gguf: bad magic")
	}
	f := &ggufFile{version: u32(), kv: map[string]any{}, kvType: map[string]uint32{}, kvElem: map[string]uint32{}, tensors: map[string][]float64{}}
	if f.version != 3 {
		tb.Fatalf("gguf: version %d", f.version)
	}
	nt, nkv := u64(), u64()
	for i := uint64(0); i < nkv; i++ {
		k := str()
		if _, dup := f.kv[k]; dup || k == "" {
			tb.Fatalf("gguf: key %q empty or repeated", k)
		}
		t := u32()
		f.kvType[k] = t
		f.keys = append(f.keys, k)
		if t == 9 {
			et, n := u32(), u64()
			f.kvElem[k] = et
			arr := make([]any, n)
			for j := range arr {
				arr[j] = scalar(et)
			}
			f.kv[k] = arr
		} else {
			f.kv[k] = scalar(t)
		}
	}
	f.align = 32
	if a, ok := f.kv["general.alignment"]; ok {
		f.align = int(a.(uint32))
	}
	for i := uint64(0); i < nt; i++ {
		in := ggufInfo{name: str()}
		nd := u32()
		for j := uint32(0); j < nd; j++ {
			in.ne = append(in.ne, u64())
		}
		in.typ, in.offset = u32(), u64()
		f.infos = append(f.infos, in)
	}
	f.dataBase = (off + f.align - 1) / f.align * f.align
	next := uint64(0)
	for _, in := range f.infos {
		if in.offset != next || in.offset%uint64(f.align) != 0 {
			tb.Fatalf("gguf: tensor %s at offset %d, expected %d (aligned to %d)", in.name, in.offset, next, f.align)
		}
		n := uint64(1)
		for _, e := range in.ne {
			n *= e
		}
		size := map[uint32]uint64{0: 4, 1: 2}[in.typ]
		if size == 0 {
			tb.Fatalf("gguf: tensor %s has type %d", in.name, in.typ)
		}
		off = f.dataBase + int(in.offset)
		vals := make([]float64, n)
		for j := range vals {
			if in.typ == 0 {
				vals[j] = float64(math.Float32frombits(u32()))
			} else {
				h := u16()
				e, m := int(h>>10&0x1f), float64(h&0x3ff)
				switch {
				case e == 0:
					vals[j] = math.Ldexp(m/1024, -14)
				case e == 31:
					vals[j] = math.Inf(1)
				default:
					vals[j] = math.Ldexp(1+m/1024, e-15)
				}
				if h&0x8000 != 0 {
					vals[j] = -vals[j]
				}
			}
		}
		f.tensors[in.name] = vals
		next += (n*size + uint64(f.align) - 1) / uint64(f.align) * uint64(f.align)
	}
	if len(b) != f.dataBase+int(next) {
		tb.Fatalf("gguf: file is %d bytes, data section ends at %d", len(b), f.dataBase+int(next))
	}
	return f
}

// ref returns the file's tensors for a forward pass.
func (f *ggufFile) ref() ref {
	r := ref{t: f.tensors, shape: map[string][]int{}}
	for _, in := range f.infos {
		s := make([]int, len(in.ne))
		for i, e := range in.ne {
			s[len(s)-1-i] = int(e)
		}
		r.shape[in.name] = s
	}
	return r
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
