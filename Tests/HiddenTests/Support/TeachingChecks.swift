// Checks whose failure messages teach. A hidden test's message is often all a
// learner sees of it, so a failed comparison says:
// - what was computed (and its shape) against what was expected;
// - where: the worst element, its index, the error there and the tolerance;
// - and, when the numbers look like a known mistake, a hint naming it.
// (Nothing here calls the library's shape helpers that are exercises: they
// may be a learner's unfinished code. `rowMajorIndex` is finished library
// code in every workspace.)
import Kindling
import Testing

/// A known mistake recognised from the numbers alone.
struct MistakeHint: Sendable {
    /// What to tell the learner.
    let message: String
    /// Whether `actual` (row-major values, shape) looks like this mistake against `expected`.
    let matches: @Sendable (_ actual: [Float], _ actualShape: [Int], _ expected: [Float], _ expectedShape: [Int]) -> Bool

    /// Every element twice the expected one.
    static let doubled = MistakeHint(message: "every value is twice the expected one: is a gradient accumulated twice — counted for two uses, or not zeroed between two backward() calls?") { a, sa, e, se in
        sa == se && e.contains { $0 != 0 } && zip(a, e).allSatisfy { close($0, 2 * $1) }
    }
    /// Every element negated.
    static let negated = MistakeHint(message: "every value has the wrong sign: check the sign of the local derivative (e.g. ∂(a − b)/∂b = −1).") { a, sa, e, se in
        sa == se && e.contains { $0 != 0 } && zip(a, e).allSatisfy { close($0, -$1) }
    }
    /// All zeros where something was expected.
    static let zero = MistakeHint(message: "everything is 0: the gradient never arrived — is the backward rule recorded, and does it add into the input's gradient?") { a, sa, e, se in
        sa == se && e.contains { $0 != 0 } && a.allSatisfy { $0 == 0 }
    }
    /// The shape the broadcast produced instead of the input's own shape.
    static let unbroadcast = MistakeHint(message: "the result has the broadcast shape, not the input's: sum the gradient back over the broadcast axes (un-broadcasting, `sumToShape`).") { a, sa, e, se in
        sa != se && sa.reduce(1, *) > se.reduce(1, *) && (try? broadcastShapesOrNil(sa, se)) == sa
    }
    /// A 2-D result equal to the expected one transposed.
    static let transposed = MistakeHint(message: "the result equals the expected one transposed: are the operands swapped (A·B vs B·A), or rows and columns mixed up?") { a, sa, e, se in
        guard se.count == 2, sa == [se[1], se[0]] || (sa == se && se[0] == se[1]), se[0] != 1 || se[1] != 1 else { return false }
        let (r, c) = (se[0], se[1])
        guard a.count == r * c, !(sa == se && zip(a, e).allSatisfy { close($0, $1) }) else { return false }
        for i in 0..<r { for j in 0..<c where !close(a[j * r + i], e[i * c + j]) { return false } }
        return true
    }
    /// The hints tried by default, most specific first.
    static let standard: [MistakeHint] = [.unbroadcast, .transposed, .doubled, .negated, .zero]
}

private func close(_ a: Float, _ b: Float) -> Bool { Swift.abs(a - b) <= 1e-5 + 1e-4 * Swift.abs(b) }

/// `broadcastShapes` without trapping: `nil` when the shapes do not broadcast.
func broadcastShapesOrNil(_ a: [Int], _ b: [Int]) throws -> [Int]? {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        guard da == db || da == 1 || db == 1 else { return nil }
        out[i] = da == 1 ? db : da
    }
    return out
}

/// Expects `actual` to have `shape` and, element by element, the `expected`
/// values within `atol + rtol·|expected|`. `what` names the quantity
/// ("the gradient of b", "softmax over axis 1"), and appears in the message.
/// `actual` is also observed for the grader, with the same tolerance.
func expectValues(_ what: String, _ actual: Tensor?, _ expected: [Float], shape: [Int],
                  atol: Float = 1e-5, rtol: Float = 1e-4, hints: [MistakeHint] = MistakeHint.standard,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    observe(what, actual, atol: atol, rtol: rtol)  // the grader's comparison (Observe.swift)
    guard let actual else {
        Issue.record("\(what): expected a tensor of shape \(shape), got nil (no gradient was stored).",
                     sourceLocation: sourceLocation)
        return
    }
    let values = actual.toArray()
    var lines: [String] = []
    if actual.shape != shape {
        lines.append("\(what): expected shape \(shape), got shape \(actual.shape).")
    } else {
        var worst = (index: -1, error: Float(0), allowed: Float(0))
        for (i, (a, e)) in zip(values, expected).enumerated() {
            let error = a.isNaN != e.isNaN ? Float.infinity : (a == e ? 0 : Swift.abs(a - e))
            let allowed = atol + rtol * Swift.abs(e)
            if error > allowed && (worst.index < 0 || error - allowed > worst.error - worst.allowed) {
                worst = (i, error, allowed)
            }
        }
        guard worst.index >= 0 else { return }
        let index = rowMajorIndex(worst.index, shape: shape)
        lines.append("\(what): \(values.count) values of shape \(shape); the worst is at \(index): expected \(expected[worst.index]), got \(values[worst.index]).")
        lines.append("Max absolute error \(worst.error) > tolerance \(worst.allowed) (atol \(atol) + rtol \(rtol)·|expected|).")
    }
    if values.count <= 12 { lines.append("expected \(expected)\n     got \(values)") }
    if let hint = hints.first(where: { $0.matches(values, actual.shape, expected, shape) }) {
        lines.append("Hint: \(hint.message)")
    }
    Issue.record(Comment(rawValue: lines.joined(separator: "\n")), sourceLocation: sourceLocation)
}

/// Expects the gradient held by `input` (named `name`) to match `expected`.
func expectGradient(of name: String, _ input: Tensor, _ expected: [Float], atol: Float = 1e-4, rtol: Float = 1e-3,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    expectValues("the gradient of \(name)", input.grad, expected, shape: input.shape, atol: atol, rtol: rtol,
                 sourceLocation: sourceLocation)
}

