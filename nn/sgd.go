package nn

// SGDConfig configures SGD.
type SGDConfig struct {
	Momentum    float32 // 0 for plain SGD
	Nesterov    bool
	WeightDecay float32 // decoupled, where Param.Decay
}

// SGD is stochastic gradient descent with (optionally Nesterov) momentum:
// buf = momentum*buf + g; update = g + momentum*buf (Nesterov) or buf;
// p -= lr*LRMult*update.
type SGD struct {
	cfg   SGDConfig
	state stateStore
	steps int
}

// NewSGD returns an SGD optimizer.
func NewSGD(cfg SGDConfig) *SGD { return &SGD{cfg: cfg} }

func (o *SGD) Name() string   { return "sgd" }
func (o *SGD) Steps() int     { return o.steps }
func (o *SGD) SetSteps(n int) { o.steps = n }

func (o *SGD) State(p *Param) map[string][]float32 { return o.state.get(p) }
func (o *SGD) ResetState(p *Param)                 { o.state.reset(p) }
func (o *SGD) SetState(p *Param, s map[string][]float32) error {
	return o.state.set(p, s, map[string]int{"momentum": p.Len()})
}

var momentumNames = []string{"momentum"}

// Step updates every parameter in params (Buffers excepted).
func (o *SGD) Step(params []*Param, lr float32) {
	mu := o.cfg.Momentum
	for _, p := range params {
		if p.Kind == Buffer {
			continue
		}
		lrp := lr * p.LRMult
		decay := float32(1)
		if p.Decay && o.cfg.WeightDecay != 0 {
			decay = 1 - lrp*o.cfg.WeightDecay
		}
		w, g := p.Data, p.Grad[:len(p.Data)]
		if mu == 0 {
			for i, gi := range g {
				w[i] = w[i]*decay - lrp*gi
			}
			continue
		}
		var sizes [1]int
		sizes[0] = p.Len()
		buf := o.state.ensure(p, momentumNames, sizes[:])["momentum"][:len(w)]
		for i, gi := range g {
			b := mu*buf[i] + gi
			buf[i] = b
			u := b
			if o.cfg.Nesterov {
				u = gi + mu*b
			}
			w[i] = w[i]*decay - lrp*u
		}
	}
	o.steps++
}
