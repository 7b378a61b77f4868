// Gradient checking (lesson 7): compare the gradients autograd computes with
// central finite differences,
//
//     ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε,
//
// one element at a time. Tensors hold Float32, so the differences are taken
// in Float32 but accumulated in Double, and ε defaults to 1e-2 · max(1, |xᵢ|).

/// How one input's analytic gradient compared with the numerical one.
public struct GradcheckInputReport: CustomStringConvertible, Sendable {
    /// The input's position in the list given to `gradcheck`.
    public let input: Int
    /// The multi-index of the element with the largest error.
    public let worstIndex: [Int]
    /// The autograd gradient at that element.
    public let analytic: Double
    /// The finite-difference gradient at that element.
    public let numerical: Double
    /// |analytic − numerical| at that element.
    public let absoluteError: Double
    /// Whether every element was within tolerance.
    public let passed: Bool

    /// One line: the worst element, both gradients and the error.
    public var description: String {
        "input \(input): worst element \(worstIndex): autograd \(analytic), numerical \(numerical), |error| \(absoluteError)\(passed ? "" : " — FAILED")"
    }
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
public func gradcheck(_ inputs: [Tensor], epsilon: Float = 1e-2, atol: Double = 1e-2, rtol: Double = 1e-2,
                      _ function: ([Tensor]) -> Tensor) -> GradcheckReport {
    // Fixed weights w make the scalar L = Σ w ⊙ f(x) sensitive to every output.
    let probe = noGrad { function(inputs) }
    var generator = SeededGenerator(seed: 7)
    let weights = Tensor((0..<probe.count).map { _ in 0.5 + generator.nextUnitFloat() }, shape: probe.shape)
    func loss(_ xs: [Tensor]) -> Tensor { (function(xs) * weights).sum() }

    for x in inputs { x.zeroGrad() }
    loss(inputs).backward()

    var reports: [GradcheckInputReport] = []
    for (k, x) in inputs.enumerated() where x.requiresGrad {
        let analytic = x.grad?.toArray() ?? [Float](repeating: 0, count: x.count)
        var worst = (index: 0, error: -1.0, a: 0.0, n: 0.0)
        var passed = true
        var multiIndex = [Int](repeating: 0, count: x.rank)
        for i in 0..<x.count {
            let p = storageOffset(of: multiIndex, strides: x.strides, offset: x.offset)
            let original = x.storage.base[p]
            let h = epsilon * Swift.max(1, Swift.abs(original))
            x.storage.base[p] = original + h
            let plus = Double(noGrad { loss(inputs) }.item())
            x.storage.base[p] = original - h
            let minus = Double(noGrad { loss(inputs) }.item())
            x.storage.base[p] = original
            let numerical = (plus - minus) / (2 * Double(h))
            let error = Swift.abs(Double(analytic[i]) - numerical)
            if error > atol + rtol * Swift.abs(numerical) { passed = false }
            if error > worst.error { worst = (i, error, Double(analytic[i]), numerical) }
            incrementIndex(&multiIndex, shape: x.shape)
        }
        var worstIndex = [Int](repeating: 0, count: x.rank)
        for _ in 0..<worst.index { incrementIndex(&worstIndex, shape: x.shape) }
        reports.append(GradcheckInputReport(input: k, worstIndex: worstIndex, analytic: worst.a,
                                            numerical: worst.n, absoluteError: Swift.max(worst.error, 0),
                                            passed: passed))
    }
    return GradcheckReport(inputs: reports)
}
