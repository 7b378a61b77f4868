import Kindling

// Gradient-failure diagnosis for the lesson tests' messages: when a gradient
// test fails, `diagnoseGradients` (Autograd/Diagnose.swift) re-runs the test's
// computation and says which backward rule the gradient first goes wrong in,
// for which input, and at which element.
//
// Use it inside an expectation's message: `#expect` builds its message only
// when the expectation fails, so a passing test pays nothing.
//
//     #expect(a.grad?.toArray() == [4, 5, 6], "∂Σab/∂a = b, got \(show(a.grad))\(whereItGoesWrong { (a * b).sum() })")

/// Where the gradient of `loss` first goes wrong, as a paragraph to append
/// to a failure message. When every backward rule checks out, it says so:
/// the bug is then elsewhere (`backward()`, `accumulateGrad`, the check).
func whereItGoesWrong(_ loss: () -> Tensor) -> String {
    let diagnosis = diagnoseGradients(loss)
    guard !diagnosis.isCorrect else {
        return "\n\nDiagnosis: every backward rule on the way agrees with finite differences, so the bug is "
            + "elsewhere: backward() (6.5), accumulateGrad (6.3), or the check itself."
    }
    return "\n\nDiagnosis: \(diagnosis)"
}

/// The same for an op checked on `inputs` (gradcheck style): its output is
/// summed with fixed weights, so every output element counts.
func whereItGoesWrong(inputs: [Tensor], _ f: ([Tensor]) -> Tensor) -> String {
    let probe = noGrad { f(inputs) }
    var generator = SeededGenerator(seed: 7)
    let weights = Tensor((0..<probe.count).map { _ in 0.5 + generator.nextUnitFloat() }, shape: probe.shape)
    return whereItGoesWrong { (f(inputs) * weights).sum() }
}
