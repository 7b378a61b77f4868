#if canImport(Glibc)
import Glibc
#endif

// A scalar autograd engine (lesson 1), modelled on Andrej Karpathy's micrograd.
//
// Every arithmetic operation on `Value`s makes a new `Value` that remembers
// its inputs and, for each input, the *local derivative* ∂output/∂input.
// `backward()` then walks this graph from the output back to the leaves,
// multiplying local derivatives along every path (the chain rule) and adding
// up the contributions of all paths.
//
//     let a = Value(2), b = Value(-3)
//     let c = a * b + 1       // c.data == -5
//     c.backward()            // a.grad == -3, b.grad == 2
//
// Storing numbers (the local derivatives) instead of backward closures keeps
// each op to one line of idea and makes retain cycles impossible: a node
// only ever points at its inputs, never at itself.

/// One number in a computation, plus the gradient of the final result with
/// respect to it (lesson 1).
public final class Value: CustomStringConvertible {
    /// The number this value holds.
    public var data: Double
    /// ∂(output of the last `backward()`)/∂self. Accumulates on leaves across
    /// `backward()` calls until `zeroGrad()`.
    public var grad: Double = 0
    /// The values this one was computed from, in order (empty for a leaf).
    public private(set) var inputs: [Value]
    /// For each input, the local derivative ∂self/∂input, in the same order.
    public private(set) var localGrads: [Double]
    /// The operation that produced this value (`"+"`, `"tanh"`, …), or `""` for a leaf.
    public let op: String
    /// A name to show in graph drawings, e.g. `"w1"`. Free for you to set.
    public var label: String

    /// A leaf: a number that was not computed from other values (an input,
    /// a weight, a constant).
    public init(_ data: Double, label: String = "") {
        self.data = data
        self.inputs = []
        self.localGrads = []
        self.op = ""
        self.label = label
    }

    /// The result of an operation: its value, the values it read, and the
    /// local derivative of the result with respect to each of them. Every op
    /// below is one call to this initializer; you can write your own ops with it.
    public init(_ data: Double, inputs: [Value], localGrads: [Double], op: String, label: String = "") {
        require(inputs.count == localGrads.count,
                "Value: \(op) has \(inputs.count) inputs but \(localGrads.count) local derivatives")
        self.data = data
        self.inputs = inputs
        self.localGrads = localGrads
        self.op = op
        self.label = label
    }

    /// Frees the graph behind this value without recursion. Releasing a long
    /// chain the natural way — each `deinit` releasing the next value — would
    /// nest one call per node and overflow the stack; instead the inputs that
    /// only this chain still holds are moved onto a local stack and emptied
    /// one by one.
    deinit {
        var pending = inputs
        inputs = []
        while var value = pending.popLast() {
            if isKnownUniquelyReferenced(&value) {
                pending.append(contentsOf: value.inputs)
                value.inputs = []
            }
        }
    }

    /// Whether this value is a leaf (it was not computed from other values).
    public var isLeaf: Bool { inputs.isEmpty }

    /// `Value(data: 2.0, grad: 0.0)`.
    public var description: String { "Value(data: \(data), grad: \(grad))" }
}

// MARK: - Operations and their local derivatives

extension Value {
    /// a + b. ∂/∂a = 1, ∂/∂b = 1.
    public static func + (a: Value, b: Value) -> Value {
        Value(a.data + b.data, inputs: [a, b], localGrads: [1, 1], op: "+")
    }

    /// a − b. ∂/∂a = 1, ∂/∂b = −1.
    public static func - (a: Value, b: Value) -> Value {
        Value(a.data - b.data, inputs: [a, b], localGrads: [1, -1], op: "-")
    }

    /// a · b. ∂/∂a = b, ∂/∂b = a.
    public static func * (a: Value, b: Value) -> Value {
        // BEGIN EXERCISE 1.1 — multiplication and its local derivatives (Lessons/01-scalar-autograd.md)
        fatalError("Exercise 1.1 is not done yet: multiplication and its local derivatives — see Lessons/01-scalar-autograd.md")
        // END EXERCISE 1.1
    }

    /// a / b. ∂/∂a = 1/b, ∂/∂b = −a/b².
    public static func / (a: Value, b: Value) -> Value {
        Value(a.data / b.data, inputs: [a, b], localGrads: [1 / b.data, -a.data / (b.data * b.data)], op: "/")
    }

    /// −a. ∂/∂a = −1.
    public static prefix func - (a: Value) -> Value {
        Value(-a.data, inputs: [a], localGrads: [-1], op: "neg")
    }

    /// aᵖ for a constant exponent p. ∂/∂a = p·aᵖ⁻¹.
    public func pow(_ p: Double) -> Value {
        Value(Glibc.pow(data, p), inputs: [self], localGrads: [p * Glibc.pow(data, p - 1)], op: "pow(\(p))")
    }

    /// eᵃ. ∂/∂a = eᵃ, the result itself.
    public func exp() -> Value {
        let y = Glibc.exp(data)
        return Value(y, inputs: [self], localGrads: [y], op: "exp")
    }

    /// The natural logarithm ln a. ∂/∂a = 1/a.
    public func log() -> Value {
        Value(Glibc.log(data), inputs: [self], localGrads: [1 / data], op: "log")
    }

    /// The hyperbolic tangent. ∂/∂a = 1 − tanh²(a).
    public func tanh() -> Value {
        // BEGIN EXERCISE 1.2 — tanh and its local derivative (Lessons/01-scalar-autograd.md)
        fatalError("Exercise 1.2 is not done yet: tanh and its local derivative — see Lessons/01-scalar-autograd.md")
        // END EXERCISE 1.2
    }

    /// max(a, 0). ∂/∂a = 1 where a > 0, else 0.
    public func relu() -> Value {
        Value(Swift.max(data, 0), inputs: [self], localGrads: [data > 0 ? 1 : 0], op: "relu")
    }
}

/// tanh(x) = (e²ˣ − 1)/(e²ˣ + 1) overflows to ∞/∞ = NaN for large x. Written
/// with e^(−2|x|), which lies in (0, 1], it never overflows; `expm1` keeps it
/// accurate near 0, where 1 − e^(−2|x|) would lose digits.
private func stableTanh(_ x: Double) -> Double {
    let m = expm1(-2 * Swift.abs(x))  // e^(−2|x|) − 1, in (−1, 0]
    let t = -m / (2 + m)
    return x < 0 ? -t : t
}

// MARK: - Mixing values with plain numbers

extension Value {
    /// a + n (n becomes a constant leaf).
    public static func + (a: Value, n: Double) -> Value { a + Value(n) }
    /// n + a.
    public static func + (n: Double, a: Value) -> Value { Value(n) + a }
    /// a − n.
    public static func - (a: Value, n: Double) -> Value { a - Value(n) }
    /// n − a.
    public static func - (n: Double, a: Value) -> Value { Value(n) - a }
    /// a · n.
    public static func * (a: Value, n: Double) -> Value { a * Value(n) }
    /// n · a.
    public static func * (n: Double, a: Value) -> Value { Value(n) * a }
    /// a / n.
    public static func / (a: Value, n: Double) -> Value { a / Value(n) }
    /// n / a.
    public static func / (n: Double, a: Value) -> Value { Value(n) / a }
}

// MARK: - Backpropagation

extension Value {
    /// Every value this one depends on, itself last, each listed after all of
    /// its inputs (a topological order).
    ///
    /// A depth-first search with an explicit stack instead of recursion, so a
    /// graph 100,000 operations deep does not overflow the call stack. Each
    /// value is pushed twice: once to visit its inputs, and once more (marked
    /// `inputsDone`) to be appended after them.
    public func topologicalOrder() -> [Value] {
        // BEGIN EXERCISE 1.3 — a topological order without recursion (Lessons/01-scalar-autograd.md)
        fatalError("Exercise 1.3 is not done yet: a topological order without recursion — see Lessons/01-scalar-autograd.md")
        // END EXERCISE 1.3
    }

    /// Sends this value's gradient one step back: each input receives
    /// local derivative × `grad` (the chain rule), *added* to what it already
    /// has, because a value used twice gets a contribution from each use.
    public func propagateGrad() {
        // BEGIN EXERCISE 1.4 — one step of the chain rule (Lessons/01-scalar-autograd.md)
        fatalError("Exercise 1.4 is not done yet: one step of the chain rule — see Lessons/01-scalar-autograd.md")
        // END EXERCISE 1.4
    }

    /// Computes ∂self/∂v for every value v in the graph and stores it in `v.grad`.
    ///
    /// Seeds ∂self/∂self = 1 and visits the graph in reverse topological order,
    /// so every value's gradient is complete before it is passed on.
    ///
    /// Leaves *accumulate*: a second `backward()` adds to their `grad` (call
    /// `zeroGrad(wholeGraph: true)` or zero the parameters between steps).
    /// Computed values start from 0 on every call, so they hold the gradient of
    /// this pass and never feed a stale one into the leaves.
    public func backward() {
        // BEGIN EXERCISE 1.5 — backward: seed, then the chain rule in reverse order (Lessons/01-scalar-autograd.md)
        fatalError("Exercise 1.5 is not done yet: backward: seed, then the chain rule in reverse order — see Lessons/01-scalar-autograd.md")
        // END EXERCISE 1.5
    }

    /// Sets `grad` back to 0: of this value only, or of every value in its
    /// graph when `wholeGraph` is true.
    public func zeroGrad(wholeGraph: Bool = false) {
        if wholeGraph {
            for value in topologicalOrder() { value.grad = 0 }
        } else {
            grad = 0
        }
    }
}
