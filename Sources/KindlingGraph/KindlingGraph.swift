// KindlingGraph: draws autograd graphs (DOT → SVG through the Graphviz C library)
// and writes training reports.
//
// The visualizer:
//
// - `Graph` walks the backward graph of a `Tensor` (or a scalar `Value`) and
//   writes deterministic DOT text (`TensorGraph.swift`, `ValueGraph.swift`).
// - `GraphOptions` says what to show and how much (`GraphOptions.swift`).
// - `Graphviz` lays out and renders DOT in-process, one render at a time
//   (`Graphviz.swift`).
