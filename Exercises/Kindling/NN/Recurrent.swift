// Recurrent layers (lesson 13): one cell applied at every time step, its
// hidden state carried from each step to the next. The cells hold PyTorch's
// parameters under PyTorch's names (`weight_ih`, `weight_hh`, `bias_ih`,
// `bias_hh`; the gates stacked in PyTorch's order), so weights move between
// the two. Sequences are batch-first: [B, T, features], as PyTorch's
// `batch_first=True`.
//
// Backpropagation through time needs no code of its own: running the cell
// T times records T copies of its graph, chained through the hidden state,
// and `backward()` walks back through all of them.

/// The parameters every recurrent cell has: input-to-hidden and
/// hidden-to-hidden weights with `gates` blocks of `hiddenSize` rows each,
/// and their biases, all uniform in ±1/√hiddenSize as in PyTorch.
open class RecurrentCell: Module {
    /// [gates·H, inputSize].
    public let weightIH: Tensor
    /// [gates·H, H].
    public let weightHH: Tensor
    /// [gates·H], or `nil`.
    public let biasIH: Tensor?
    /// [gates·H], or `nil`.
    public let biasHH: Tensor?
    /// Features per input step.
    public let inputSize: Int
    /// Features of the hidden state.
    public let hiddenSize: Int

    init(inputSize: Int, hiddenSize: Int, gates: Int, bias: Bool, name: String) {
        require(inputSize > 0 && hiddenSize > 0,
                "\(name)(\(inputSize), \(hiddenSize)): sizes must be positive")
        let bound = 1 / Float(hiddenSize).squareRoot()
        func uniform(_ shape: [Int]) -> Tensor { Tensor.uniform(shape, low: -bound, high: bound, requiresGrad: true) }
        weightIH = uniform([gates * hiddenSize, inputSize])
        weightHH = uniform([gates * hiddenSize, hiddenSize])
        biasIH = bias ? uniform([gates * hiddenSize]) : nil
        biasHH = bias ? uniform([gates * hiddenSize]) : nil
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        super.init()
    }

    /// PyTorch's names for the parameters.
    open override func namedChildren() -> [(name: String, child: ModuleChild)] {
        var children: [(name: String, child: ModuleChild)] = [("weight_ih", .parameter(weightIH)), ("weight_hh", .parameter(weightHH))]
        if let biasIH { children.append(("bias_ih", .parameter(biasIH))) }
        if let biasHH { children.append(("bias_hh", .parameter(biasHH))) }
        return children
    }

    /// x·W_ihᵀ + b_ih: every gate's input part at once.
    func inputProjection(_ x: Tensor) -> Tensor {
        let y = x.matmul(weightIH.transposed())
        return biasIH.map { y + $0 } ?? y
    }

    /// h·W_hhᵀ + b_hh: every gate's recurrent part at once.
    func hiddenProjection(_ h: Tensor) -> Tensor {
        let y = h.matmul(weightHH.transposed())
        return biasHH.map { y + $0 } ?? y
    }

    /// Checks one step's input [B, inputSize] and state [B, hiddenSize].
    func checkStep(_ x: Tensor, _ h: Tensor, layer: String) {
        require(x.rank == 2 && x.shape[1] == inputSize,
                "\(layer): input \(x.shape) must be [batch, \(inputSize)]")
        require(h.shape == [x.shape[0], hiddenSize],
                "\(layer): hidden state \(h.shape) must be [\(x.shape[0]), \(hiddenSize)] for input \(x.shape)")
    }

    /// The gate block `k` (of width H) of a [B, gates·H] tensor, as a view.
    func gate(_ t: Tensor, _ k: Int) -> Tensor {
        t.sliced(axis: -1, from: k * hiddenSize, to: (k + 1) * hiddenSize)
    }
}

/// The Elman cell: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh).
public final class RNNCell: RecurrentCell {
    /// A cell reading `inputSize` features into a state of `hiddenSize`.
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
        super.init(inputSize: inputSize, hiddenSize: hiddenSize, gates: 1, bias: bias, name: "RNNCell")
    }

    /// One step: the next hidden state [B, H] from input x [B, I] and state h [B, H].
    public func step(_ x: Tensor, _ h: Tensor) -> Tensor {
        checkStep(x, h, layer: "RNNCell(\(inputSize), \(hiddenSize))")
        // BEGIN EXERCISE 13.5 — one step of the Elman cell: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (Lessons/13-sequences.md)
        fatalError("Exercise 13.5 is not done yet: one step of the Elman cell: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) — see Lessons/13-sequences.md")
        // END EXERCISE 13.5
    }

    /// One step from a zero state.
    public override func forward(_ x: Tensor) -> Tensor { step(x, Tensor.zeros([x.shape[0], hiddenSize])) }
}

/// The state an LSTM carries: the hidden state h (what the next layer
/// reads) and the cell state c (its memory), each [B, H].
public struct LSTMState {
    /// [B, H].
    public var h: Tensor
    /// [B, H].
    public var c: Tensor

    /// A state of the given tensors.
    public init(h: Tensor, c: Tensor) {
        self.h = h
        self.c = c
    }

    /// All zeros, for `batch` sequences of `hiddenSize`.
    public static func zeros(batch: Int, hiddenSize: Int) -> LSTMState {
        LSTMState(h: .zeros([batch, hiddenSize]), c: .zeros([batch, hiddenSize]))
    }
}

/// Long short-term memory (Hochreiter & Schmidhuber, 1997). Four gates from
/// one product, in PyTorch's order: input i, forget f, candidate g, output o.
///
///     i, f, o = σ(…), g = tanh(…)        (each x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh, one block)
///     c' = f·c + i·g                      the memory: keep some, write some
///     h' = o·tanh(c')                     what the cell shows
///
/// The memory path c → c' is a sum scaled by f, not a squashing function,
/// so the gradient can cross many steps without vanishing.
public final class LSTMCell: RecurrentCell {
    /// A cell reading `inputSize` features into states of `hiddenSize`.
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
        super.init(inputSize: inputSize, hiddenSize: hiddenSize, gates: 4, bias: bias, name: "LSTMCell")
    }

    /// One step from input x [B, I] and `state`.
    public func step(_ x: Tensor, _ state: LSTMState) -> LSTMState {
        checkStep(x, state.h, layer: "LSTMCell(\(inputSize), \(hiddenSize))")
        return gatesStep(inputProjection(x) + hiddenProjection(state.h), cell: state.c)
    }

    /// The gate arithmetic of one step, from the [B, 4H] pre-activations.
    func gatesStep(_ gates: Tensor, cell c: Tensor) -> LSTMState {
        // BEGIN EXERCISE 13.7 — the LSTM's gates: c' = f·c + i·g, h' = o·tanh(c') (Lessons/13-sequences.md)
        fatalError("Exercise 13.7 is not done yet: the LSTM's gates: c' = f·c + i·g, h' = o·tanh(c') — see Lessons/13-sequences.md")
        // END EXERCISE 13.7
    }

    /// One step from a zero state; returns h'.
    public override func forward(_ x: Tensor) -> Tensor {
        step(x, .zeros(batch: x.shape[0], hiddenSize: hiddenSize)).h
    }
}

/// The gated recurrent unit (Cho et al., 2014), PyTorch's formulation and
/// gate order (reset r, update z, new n):
///
///     r = σ(x·W_irᵀ + b_ir + h·W_hrᵀ + b_hr)
///     z = σ(x·W_izᵀ + b_iz + h·W_hzᵀ + b_hz)
///     n = tanh(x·W_inᵀ + b_in + r·(h·W_hnᵀ + b_hn))
///     h' = (1 − z)·n + z·h
public final class GRUCell: RecurrentCell {
    /// A cell reading `inputSize` features into a state of `hiddenSize`.
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
        super.init(inputSize: inputSize, hiddenSize: hiddenSize, gates: 3, bias: bias, name: "GRUCell")
    }

    /// One step: the next hidden state [B, H].
    public func step(_ x: Tensor, _ h: Tensor) -> Tensor {
        checkStep(x, h, layer: "GRUCell(\(inputSize), \(hiddenSize))")
        let xi = inputProjection(x), hh = hiddenProjection(h)
        let r = (gate(xi, 0) + gate(hh, 0)).sigmoid()
        let z = (gate(xi, 1) + gate(hh, 1)).sigmoid()
        let n = (gate(xi, 2) + r * gate(hh, 2)).tanh()
        return (1 - z) * n + z * h
    }

    /// One step from a zero state.
    public override func forward(_ x: Tensor) -> Tensor { step(x, Tensor.zeros([x.shape[0], hiddenSize])) }
}

/// Checks a batch-first sequence [B, T, inputSize].
private func checkSequence(_ x: Tensor, inputSize: Int, layer: String) {
    require(x.rank == 3 && x.shape[2] == inputSize && x.shape[1] >= 1,
            "\(layer): input \(x.shape) must be [batch, time ≥ 1, \(inputSize)]")
}

/// An Elman RNN over whole sequences: `RNNCell` unrolled over time.
/// State dict names as PyTorch's one-layer `nn.RNN`: `weight_ih_l0`, ….
public final class RNN: Module {
    /// The cell applied at every step.
    public let cell: RNNCell

    /// A one-layer RNN from `inputSize` to `hiddenSize` features.
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
        cell = RNNCell(inputSize, hiddenSize, bias: bias)
        super.init()
    }

    public override func namedChildren() -> [(name: String, child: ModuleChild)] {
        cell.namedChildren().map { ($0.name + "_l0", $0.child) }
    }

    /// The outputs [B, T, H] (the hidden state after every step) and the last
    /// hidden state [B, H], starting from `h` (zeros if `nil`).
    public func run(_ x: Tensor, _ h: Tensor? = nil) -> (output: Tensor, h: Tensor) {
        checkSequence(x, inputSize: cell.inputSize, layer: "RNN(\(cell.inputSize), \(cell.hiddenSize))")
        // BEGIN EXERCISE 13.6 — unroll the cell over time, the state carried from step to step (Lessons/13-sequences.md)
        fatalError("Exercise 13.6 is not done yet: unroll the cell over time, the state carried from step to step — see Lessons/13-sequences.md")
        // END EXERCISE 13.6
    }

    /// The outputs [B, T, H].
    public override func forward(_ x: Tensor) -> Tensor { run(x).output }
}

/// An LSTM over whole sequences: `LSTMCell` unrolled over time. The input
/// part of every gate, x·W_ihᵀ + b_ih, does not depend on the state, so it
/// is computed for all T steps in one matrix product before the loop (the
/// fast path cuDNN and PyTorch take); only h·W_hhᵀ stays inside it.
/// State dict names as PyTorch's one-layer `nn.LSTM`: `weight_ih_l0`, ….
public final class LSTM: Module {
    /// The cell applied at every step.
    public let cell: LSTMCell

    /// A one-layer LSTM from `inputSize` to `hiddenSize` features.
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
        cell = LSTMCell(inputSize, hiddenSize, bias: bias)
        super.init()
    }

    public override func namedChildren() -> [(name: String, child: ModuleChild)] {
        cell.namedChildren().map { ($0.name + "_l0", $0.child) }
    }

    /// The outputs [B, T, H] and the last state, starting from `state`
    /// (zeros if `nil`).
    public func run(_ x: Tensor, _ state: LSTMState? = nil) -> (output: Tensor, state: LSTMState) {
        checkSequence(x, inputSize: cell.inputSize, layer: "LSTM(\(cell.inputSize), \(cell.hiddenSize))")
        let (batch, steps) = (x.shape[0], x.shape[1])
        var s = state ?? .zeros(batch: batch, hiddenSize: cell.hiddenSize)
        require(s.h.shape == [batch, cell.hiddenSize] && s.c.shape == [batch, cell.hiddenSize],
                "LSTM(\(cell.inputSize), \(cell.hiddenSize)): state h \(s.h.shape), c \(s.c.shape) must be [\(batch), \(cell.hiddenSize)]")
        let inputs = cell.inputProjection(x)  // [B, T, 4H], every step at once
        var outputs: [Tensor] = []
        for t in 0..<steps {
            s = cell.gatesStep(inputs.selected(axis: 1, index: t) + cell.hiddenProjection(s.h), cell: s.c)
            outputs.append(s.h)
        }
        return (Tensor.stacked(outputs, axis: 1), s)
    }

    /// The outputs [B, T, H].
    public override func forward(_ x: Tensor) -> Tensor { run(x).output }
}
