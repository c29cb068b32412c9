// Package compare runs the fixed-versus-progressive experiment: a fixed-depth
// baseline and progressive variants (zero- or one-block source, grown in one
// step to the target depth with a chosen initialisation) trained on the same
// data, seed, token budget and schedule, one after another, and reports them
// side by side.
//
// An Experiment names the runs by Spec ("fixed", "0-random", "1-copy",
// "1-copy-cosine", "1-copy@0.7", ...), builds one trainer.Config per run from
// a base config (Variants), runs them (Run, each run using every worker
// itself) and collects each run's evaluation points (validation loss against
// cumulative FLOPs and wall time), expansion points and summary. Optionally it
// sweeps the expansion point tau of the best progressive variant, latest
// first, to find the latest tau whose final validation loss is within a
// tolerance (default 1%) of the baseline's: the latest tau that "mixes".
//
// A spec "fixed=SPEC" is the control a progressive run needs besides the
// full fixed-depth run: the target model trained for only as many steps as
// the progressive run SPEC's FLOPs buy, on its own complete schedule. The
// full run says how much loss growing gives up; this one says whether
// growing beats simply training the deep model for less.
//
// With Experiment.Seeds every run is repeated per seed and compared with the
// fixed-depth run of its own seed, and SeedRows averages each variant over
// its seeds: at small scales one seed can move a progressive run's gap by a
// point, more than the 1% that decides whether it mixes.
//
// The report comes out as a text table (WriteTable), JSON Lines carrying the
// trainer's summary fields plus the run's name (WriteJSONL), and a PNG chart
// of validation loss against FLOPs and against wall time with the expansion
// points marked (WriteChart, drawn with gonum.org/v1/plot). ReadJSONL reads
// the JSON Lines back, and Merge joins the parts of a comparison split across
// processes or machines (Experiment.NoBaseline runs the variants without the
// baseline), so that each part can have its own cores. Every run records its
// Recipe (optimizer, learning rate, weight decay, clipping, batch, warmup,
// decay and validation set), and both refuse to put runs of different recipes in one table:
// their deltas would measure the recipe, not the growth.
//
// compare sits on trainer and grow; it knows nothing of the command line.
package compare
