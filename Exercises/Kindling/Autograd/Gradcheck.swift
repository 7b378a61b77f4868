// Gradient checking (lesson 7): compare the gradients autograd computes with
// central finite differences,
//
//     ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε,
//
// one element at a time. Tensors hold Float32, so the differences are taken
// in Float32 but accumulated in Double, and ε defaults to 1e-2 · max(1, |xᵢ|).
//
// `gradcheck` is four small ideas put together, each its own function:
// the central difference of a scalar function (7.1), the tolerance test
// (7.2), perturbing one element of a tensor in place and putting it back
// (7.3), and the report on the worst element (7.4).

/// The central difference (f(x + h) − f(x − h)) / 2h: an estimate of f′(x)
/// from two evaluations of `f`, with an error of order h² (lesson 7).
///
///     centralDifference(at: 1, step: 1e-4) { $0 * $0 * $0 }  // ≈ 3
public func centralDifference(at x: Double, step h: Double, _ f: (Double) -> Double) -> Double {
    // BEGIN EXERCISE 7.1 — the central difference of a scalar function (Lessons/07-gradient-checking.md)
    fatalError("Exercise 7.1 is not done yet: the central difference of a scalar function — see Lessons/07-gradient-checking.md")
    // END EXERCISE 7.1
}

/// Whether an autograd gradient agrees with a finite-difference one:
/// |analytic − numerical| ≤ atol + rtol·|numerical| (the test of NumPy's
/// `isclose` and PyTorch's `gradcheck`). NaN never agrees.
public func gradientsAgree(_ analytic: Double, _ numerical: Double, atol: Double, rtol: Double) -> Bool {
    // BEGIN EXERCISE 7.2 — does the analytic gradient agree with the numerical one? (Lessons/07-gradient-checking.md)
    fatalError("Exercise 7.2 is not done yet: does the analytic gradient agree with the numerical one? — see Lessons/07-gradient-checking.md")
    // END EXERCISE 7.2
}

/// |a − n| / max(|a|, |n|): the error as a fraction of the larger gradient
/// (0 when both are 0). Reported beside the absolute error; on its own it
/// misleads near zero, where 10⁻⁹ against −10⁻⁹ is a "200 %" error.
public func relativeError(_ analytic: Double, _ numerical: Double) -> Double {
    let scale = Swift.max(Swift.abs(analytic), Swift.abs(numerical))
    return scale == 0 ? 0 : Swift.abs(analytic - numerical) / scale
}

/// Runs `body` with element `index` of `x` temporarily set to `value`, then
/// puts the original number back, bit for bit. It writes straight into `x`'s
/// storage (through its strides and offset, so `x` may be a view) and records
/// nothing for autograd.
public func withElement<Result>(of x: Tensor, at index: [Int], setTo value: Float,
                                _ body: () -> Result) -> Result {
    // BEGIN EXERCISE 7.3 — change one element of a tensor, then put it back (Lessons/07-gradient-checking.md)
    fatalError("Exercise 7.3 is not done yet: change one element of a tensor, then put it back — see Lessons/07-gradient-checking.md")
    // END EXERCISE 7.3
}

/// The finite-difference gradient of `f` with respect to every element of
/// `x`, in row-major order: each element in turn is moved by ±h, with
/// h = `epsilon`·max(1, |xᵢ|), while `f` reads `x`.
public func numericalGradient(of x: Tensor, epsilon: Float = 1e-2, _ f: () -> Float) -> [Double] {
    let values = x.toArray()
    var result: [Double] = []
    result.reserveCapacity(values.count)
    var index = [Int](repeating: 0, count: x.rank)
    for value in values {
        let original = Double(value)
        let h = Double(epsilon) * Swift.max(1, Swift.abs(original))
        result.append(centralDifference(at: original, step: h) { v in
            withElement(of: x, at: index, setTo: Float(v)) { Double(f()) }
        })
        incrementIndex(&index, shape: x.shape)
    }
    return result
}

/// The multi-index of position `flat` when `shape` is read row-major.
///
///     rowMajorIndex(5, shape: [2, 3]) == [1, 2]
public func rowMajorIndex(_ flat: Int, shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}

/// How one input's analytic gradient compared with the numerical one.
public struct GradcheckInputReport: CustomStringConvertible, Sendable {
    /// The input's position in the list given to `gradcheck`.
    public let input: Int
    /// The multi-index of the element that misses its tolerance by the most
    /// (or comes closest to missing it); `[]` for an input with no elements.
    public let worstIndex: [Int]
    /// The autograd gradient at that element.
    public let analytic: Double
    /// The finite-difference gradient at that element.
    public let numerical: Double
    /// |analytic − numerical| at that element.
    public let absoluteError: Double
    /// atol + rtol·|numerical| at that element: the error it was allowed.
    public let tolerance: Double
    /// Whether every element was within its tolerance.
    public let passed: Bool

    /// A report; see the properties.
    public init(input: Int, worstIndex: [Int], analytic: Double, numerical: Double, absoluteError: Double,
                tolerance: Double, passed: Bool) {
        self.input = input
        self.worstIndex = worstIndex
        self.analytic = analytic
        self.numerical = numerical
        self.absoluteError = absoluteError
        self.tolerance = tolerance
        self.passed = passed
    }

    /// |analytic − numerical| / max(|analytic|, |numerical|) at the worst element.
    public var relativeError: Double { Kindling.relativeError(analytic, numerical) }

    /// One line: the worst element, both gradients and the error.
    public var description: String {
        "input \(input): worst element \(worstIndex): autograd \(analytic), numerical \(numerical), "
            + "|error| \(absoluteError) \(passed ? "≤" : ">") tolerance \(tolerance)\(passed ? "" : " — FAILED")"
    }
}

/// Compares one input's gradients element by element (both row-major, for a
/// tensor of `shape`) and reports the element that misses its tolerance
/// atol + rtol·|numerical| by the most — a NaN error counts as missing it by
/// infinity. `passed` is whether every element agrees (`gradientsAgree`).
public func gradcheckReport(input: Int, shape: [Int], analytic: [Double], numerical: [Double],
                            atol: Double, rtol: Double) -> GradcheckInputReport {
    require(analytic.count == numerical.count && analytic.count == elementCount(shape),
            "gradcheckReport: \(analytic.count) analytic and \(numerical.count) numerical values for shape \(shape)")
    // BEGIN EXERCISE 7.4 — report the worst element (Lessons/07-gradient-checking.md)
    fatalError("Exercise 7.4 is not done yet: report the worst element — see Lessons/07-gradient-checking.md")
    // END EXERCISE 7.4
}

/// The result of `gradcheck`: one report per input that requires grad.
public struct GradcheckReport: CustomStringConvertible, Sendable {
    /// Per-input reports.
    public let inputs: [GradcheckInputReport]
    /// Whether every input passed.
    public var passed: Bool { inputs.allSatisfy(\.passed) }
    /// One line per input.
    public var description: String { inputs.map(\.description).joined(separator: "\n") }
}

/// Checks the gradients of `function` (reduced to a scalar by summing its
/// output with fixed random weights, so every output element matters) with
/// respect to every input that requires grad.
///
/// An element passes when |analytic − numerical| ≤ `atol` + `rtol`·|numerical|.
/// An output that records no graph at all (an op that forgot to record
/// itself) counts as an analytic gradient of 0.
///
///     let a = Tensor.randn([3, 4], requiresGrad: true), b = Tensor.randn([4], requiresGrad: true)
///     let report = gradcheck([a, b]) { ($0[0] * $0[1]).tanh() }
///     print(report)  // one line per input: the worst element, both gradients, the error
public func gradcheck(_ inputs: [Tensor], epsilon: Float = 1e-2, atol: Double = 1e-2, rtol: Double = 1e-2,
                      _ function: ([Tensor]) -> Tensor) -> GradcheckReport {
    // Fixed weights w make the scalar L = Σ w ⊙ f(x) sensitive to every output
    // (a plain sum would hide, say, two output gradients swapped).
    let probe = noGrad { function(inputs) }
    var generator = SeededGenerator(seed: 7)
    let weights = Tensor((0..<probe.count).map { _ in 0.5 + generator.nextUnitFloat() }, shape: probe.shape)
    func loss(_ xs: [Tensor]) -> Tensor { (function(xs) * weights).sum() }

    for x in inputs { x.zeroGrad() }
    let l = loss(inputs)
    if l.requiresGrad { l.backward() }

    var reports: [GradcheckInputReport] = []
    for (k, x) in inputs.enumerated() where x.requiresGrad {
        let analytic = (x.grad?.toArray() ?? [Float](repeating: 0, count: x.count)).map(Double.init)
        let numerical = numericalGradient(of: x, epsilon: epsilon) { noGrad { loss(inputs) }.item() }
        reports.append(gradcheckReport(input: k, shape: x.shape, analytic: analytic, numerical: numerical,
                                       atol: atol, rtol: rtol))
    }
    return GradcheckReport(inputs: reports)
}
