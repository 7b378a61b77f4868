import Foundation
import Kindling
import Testing

// Hidden tests of lesson 9 (losses and optimizers). The grader maps each test
// to its exercise by the suite name `Exercise_9_N`; each suite uses only its
// own exercise and earlier ones. They probe what the visible tests do not:
// views (transposed, sliced) as inputs, scalars and single classes, scores
// far beyond what `exp` can hold, random cases against a Float64 reference the
// test computes itself, several parameters with their own optimizer state,
// and trajectories recorded from PyTorch.
//
// Every test also observes the values the learner's code produced (see
// Support/Observe.swift), and runs a small case drawn from the grading seed
// next to its hand-worked one.

// MARK: - Helpers

/// Random numbers in [−scale, scale), repeatable.
private func randomValues(_ count: Int, scale: Float = 1, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in (2 * g.nextUnitFloat() - 1) * scale }
}

/// |a − b| ≤ tolerance · max(1, |b|).
private func near(_ a: Float, _ b: Double, _ tolerance: Double = 1e-5) -> Bool {
    Swift.abs(Double(a) - b) <= tolerance * Swift.max(1, Swift.abs(b))
}

/// Observes `got`, which a check accepts within `tolerance`·max(1, |expected|) of `expected`:
/// the reference's value is there too, so any two accepted values are within twice that.
private func observeNear(_ what: String, _ got: Float, expected: Double, _ tolerance: Double = 1e-5) {
    observe(what, Double(got), atol: 2 * tolerance * Swift.max(1, Swift.abs(expected)))
}

/// Whether `t` holds `expected`, element by element, within `atol + rtol·|expected|`.
private func allClose(_ t: Tensor, _ expected: [Float], atol: Float = 1e-5, rtol: Float = 1e-4) -> Bool {
    let a = t.toArray()
    return a.count == expected.count && zip(a, expected).allSatisfy { Swift.abs($0 - $1) <= atol + rtol * Swift.abs($1) }
}

/// log Σ exp(x), in Float64, stably.
private func logSumExp(_ x: [Double]) -> Double {
    let m = x.max()!
    guard m.isFinite else { return m }
    return m + Foundation.log(x.reduce(0) { $0 + Foundation.exp($1 - m) })
}

/// Float64 softmax of one row.
private func softmax(_ x: [Double]) -> [Double] {
    let lse = logSumExp(x)
    return x.map { Foundation.exp($0 - lse) }
}

/// Runs exercise 9.3 on plain arrays.
private func ceRow(_ logits: [Float], target: Int) -> (loss: Float, probabilities: [Float]) {
    var probabilities = [Float](repeating: .nan, count: logits.count)
    let loss = logits.withUnsafeBufferPointer { l in
        probabilities.withUnsafeMutableBufferPointer { p in crossEntropyRow(l, target: target, probabilities: p) }
    }
    return (loss, probabilities)
}

extension MistakeHint {
    /// A loss N times too large: summed where it should be averaged.
    static func summedNotAveraged(_ n: Int) -> MistakeHint {
        MistakeHint(message: "every value is \(n)× the expected one: the loss is a MEAN over the batch — divide the sum by N.") { a, sa, e, se in
            sa == se && e.contains { $0 != 0 } && zip(a, e).allSatisfy { Swift.abs($0 - Float(n) * $1) <= 1e-4 * Swift.max(1, Swift.abs($1 * Float(n))) }
        }
    }
    /// A cross-entropy gradient that is softmax only: the one-hot was never subtracted.
    static let missingOneHot = MistakeHint(message: "each row sums to a positive number instead of 0: subtract the one-hot (1 at the row's target) from the probabilities.") { a, sa, _, se in
        guard sa == se, se.count == 2, se[1] > 0 else { return false }
        let classes = se[1]
        return stride(from: 0, to: a.count, by: classes).allSatisfy { start in
            a[start..<start + classes].reduce(0, +) > 1e-3
        }
    }
}

extension MistakeHint {
    /// The first parameter is right and the second is not: state shared between parameters.
    static func ownStatePerParameter(_ state: String) -> MistakeHint {
        MistakeHint(message: "parameter 0 is right but parameter 1 is not: each parameter has its own optimizer state — use \(state), where index is the parameter's number.") { _, _, _, _ in true }
    }
}

/// Float64 SGD with PyTorch's semantics, for one parameter.
private struct ReferenceSGD {
    var lr: Double, momentum: Double, weightDecay: Double, nesterov: Bool
    var velocity: [Double]? = nil
    mutating func step(_ theta: inout [Double], _ grad: [Double]) {
        var g = zip(grad, theta).map { $0 + weightDecay * $1 }
        if momentum != 0 {
            let v = velocity.map { zip($0, g).map { momentum * $0 + $1 } } ?? g
            velocity = v
            g = nesterov ? zip(g, v).map { $0 + momentum * $1 } : v
        }
        theta = zip(theta, g).map { $0 - lr * $1 }
    }
}

/// Float64 Adam / AdamW with PyTorch's semantics, for one parameter.
private struct ReferenceAdam {
    var lr: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double, decoupled: Bool
    var m: [Double] = [], v: [Double] = [], t = 0
    mutating func step(_ theta: inout [Double], _ grad: [Double]) {
        if m.isEmpty { m = .init(repeating: 0, count: theta.count); v = m }
        t += 1
        var g = grad
        if decoupled { theta = theta.map { $0 * (1 - lr * weightDecay) } } else { g = zip(g, theta).map { $0 + weightDecay * $1 } }
        let c1 = 1 - Foundation.pow(beta1, Double(t)), c2 = 1 - Foundation.pow(beta2, Double(t))
        for i in theta.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            theta[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}

/// The small regression problem of `Tests/KindlingTests/Data/golden_nn.json`
/// (recorded with PyTorch): mseLoss(tanh(x·w + b), y), x [4, 3], w [3, 2], b [2].
private enum GoldenProblem {
    static let x: [Float] = [-0.21118912, -0.51773345, 0.14959584, -1.7898968, 0.28445226, -0.3216956,
                             -0.7260503, 0.09853727, -1.9514738, -0.15841289, -0.73128486, 0.40969536]
    static let y: [Float] = [-0.34185296, 0.4664915, -0.12568972, 0.5551852, 0.15106556, -0.54900223, 0.6940776, 0.23412831]
    static let w: [Float] = [0.017399626, -0.43372357, 0.09788511, -0.40784475, 0.11981444, -0.10129666]
    static let b: [Float] = [0.08560181, 0.020247035]

    /// Runs 5 optimizer steps (leaving `b` out of the loss on `frozen` steps)
    /// and returns w and b after the last one.
    static func run(frozen: Set<Int> = [], _ make: ([Tensor]) -> Optimizer) -> (w: Tensor, b: Tensor) {
        fiveSteps(x: Self.x, y: Self.y, w: Self.w, b: Self.b, frozen: frozen, make)
    }
}

/// 5 optimizer steps on mseLoss(tanh(x·w + b), y), x [4, 3], w [3, 2], b [2]
/// (leaving `b` out of the loss on `frozen` steps); w and b after the last one.
private func fiveSteps(x: [Float], y: [Float], w: [Float], b: [Float], frozen: Set<Int>,
                       _ make: ([Tensor]) -> Optimizer) -> (w: Tensor, b: Tensor) {
    let x = Tensor(x, shape: [4, 3]), y = Tensor(y, shape: [4, 2])
    let w = Tensor(w, shape: [3, 2], requiresGrad: true), b = Tensor(b, requiresGrad: true)
    let optimizer = make([w, b])
    for step in 1...5 {
        optimizer.zeroGrad()
        let z = frozen.contains(step) ? x.matmul(w) : x.matmul(w) + b
        mseLoss(z.tanh(), y).backward()
        optimizer.step()
    }
    return (w, b)
}

/// A problem of `GoldenProblem`'s form, drawn: mseLoss(tanh(x·w + b), y), x [4, 3], w [3, 2], b [2].
private struct DrawnProblem {
    let x: [Float], y: [Float], w: [Float], b: [Float]

    init(_ g: inout SeededGenerator) {
        x = randomValues(12, scale: 2, &g)
        y = randomValues(8, scale: 0.7, &g)
        w = randomValues(6, scale: 0.5, &g)
        b = randomValues(2, scale: 0.1, &g)
    }

    /// Runs 5 optimizer steps as `GoldenProblem.run` does, and returns w and b after the last one.
    func run(frozen: Set<Int> = [], _ make: ([Tensor]) -> Optimizer) -> (w: Tensor, b: Tensor) {
        fiveSteps(x: x, y: y, w: w, b: b, frozen: frozen, make)
    }

    /// The same 5 steps in Float64, with the gradients worked out by hand: `step(k, θ, gradient)`
    /// updates parameter k (0 is w, 1 is b); b gets no step on `frozen` steps.
    func reference(frozen: Set<Int> = [], _ step: (Int, inout [Double], [Double]) -> Void) -> (w: [Float], b: [Float]) {
        var w = self.w.map(Double.init), b = self.b.map(Double.init)
        let x = self.x.map(Double.init), y = self.y.map(Double.init)
        for s in 1...5 {
            var gw = [Double](repeating: 0, count: 6), gb = [0.0, 0.0]
            for i in 0..<4 {
                for j in 0..<2 {
                    let z = (0..<3).reduce(frozen.contains(s) ? 0 : b[j]) { $0 + x[i * 3 + $1] * w[$1 * 2 + j] }
                    let t = Foundation.tanh(z)
                    let dz = 2 * (t - y[i * 2 + j]) / 8 * (1 - t * t)
                    for k in 0..<3 { gw[k * 2 + j] += x[i * 3 + k] * dz }
                    gb[j] += dz
                }
            }
            step(0, &w, gw)
            if !frozen.contains(s) { step(1, &b, gb) }
        }
        return (w.map { Float($0) }, b.map { Float($0) })
    }
}

/// Softmax of each row of `values` ([rows, classes]) minus the one-hot of `targets`, times `scale`, in Double.
private func referenceCrossEntropyGradient(_ values: [Float], classes: Int, targets: [Int], scale: Double) -> [Float] {
    targets.enumerated().flatMap { i, t -> [Float] in
        var p = softmax(values[(i * classes)..<((i + 1) * classes)].map(Double.init))
        p[t] -= 1
        return p.map { Float($0 * scale) }
    }
}

/// `values` of shape [rows, cols] transposed, row-major.
private func transposedValues(_ values: [Float], rows: Int, cols: Int) -> [Float] {
    (0..<cols).flatMap { j in (0..<rows).map { i in values[i * cols + j] } }
}

// MARK: - 9.1 mseLoss

@Suite struct Exercise_9_1 {
    @Test func transposedAndSlicedInputs() {
        var g = SeededGenerator(seed: graded(91))
        let a = Tensor(randomValues(12, &g), shape: [3, 4])
        let input = a.transposed()                                   // [4, 3], not contiguous
        let t = Tensor(randomValues(24, &g), shape: [4, 6])
        let target = t.sliced(axis: 1, from: 0, step: 2)             // [4, 3], every other column
        let loss = mseLoss(input, target)
        let x = input.toArray(), y = target.toArray()
        let expected = zip(x, y).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / 12
        #expect(near(loss.item(), expected), "mseLoss of a transposed input and a sliced target: expected \(expected), got \(loss.item())")
        observeNear("mseLoss of a drawn transposed input and a drawn sliced target", loss.item(), expected: expected)
    }

    @Test func gradientReachesBothSides() {
        let input = Tensor([1, -1, 2], requiresGrad: true)
        let target = Tensor([0, 1, 4], requiresGrad: true)
        mseLoss(input, target).backward()
        // diff = [1, −2, −2]; ∂/∂input = 2·diff/3, ∂/∂target = −2·diff/3
        expectGradient(of: "input", input, [2.0 / 3, -4.0 / 3, -4.0 / 3])
        expectGradient(of: "target", target, [-2.0 / 3, 4.0 / 3, 4.0 / 3])

        // Drawn from the grading seed: another input and target.
        var g = SeededGenerator(seed: graded(9101))
        let n = Int.random(in: 2...8, using: &g)
        let (xv, tv) = (randomValues(n, scale: 3, &g), randomValues(n, scale: 3, &g))
        let x2 = Tensor(xv, requiresGrad: true), t2 = Tensor(tv, requiresGrad: true)
        mseLoss(x2, t2).backward()
        expectGradient(of: "the drawn input \(xv) (target \(tv))", x2, zip(xv, tv).map { 2 * ($0 - $1) / Float(n) })
        expectGradient(of: "the drawn target \(tv) (input \(xv))", t2, zip(xv, tv).map { -2 * ($0 - $1) / Float(n) })
    }

    @Test func aScalarAndARank3Tensor() {
        let s = mseLoss(Tensor(scalar: 3), Tensor(scalar: 1))
        #expect(s.shape == [] && near(s.item(), 4), "one element: (3 − 1)² = 4, got \(s.item()) of shape \(s.shape)")
        observe("the shape of mseLoss of two scalars", s.shape)
        observeNear("mseLoss(3, 1)", s.item(), expected: 4)
        var g = SeededGenerator(seed: graded(92))
        let a = randomValues(24, scale: 3, &g), b = randomValues(24, scale: 3, &g)
        let loss = mseLoss(Tensor(a, shape: [2, 3, 4]), Tensor(b, shape: [2, 3, 4]))
        let expected = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / 24
        expectValues("mseLoss over a [2, 3, 4] tensor", loss, [Float(expected)], shape: [],
                     hints: [.summedNotAveraged(24)])
    }
}

// MARK: - 9.2 nllLoss

@Suite struct Exercise_9_2 {
    @Test func transposedLogProbabilities() {
        var g = SeededGenerator(seed: graded(93))
        let values = randomValues(12, scale: 3, &g)
        let source = Tensor(values, shape: [3, 4], requiresGrad: true)
        let logProbs = source.transposed()                           // [4, 3]: row i is column i of source
        let targets = [2, 0, 1, 2]
        let loss = nllLoss(logProbs, targets)
        let expected = -targets.enumerated().reduce(0.0) { $0 + Double(values[$1.1 * 4 + $1.0]) } / 4
        #expect(near(loss.item(), expected), "nllLoss of a transposed [4, 3] view: expected \(expected), got \(loss.item()) — read each row's target through the view, not the storage")
        observeNear("nllLoss of a drawn transposed [4, 3] view", loss.item(), expected: expected)
        loss.backward()
        var grad = [Float](repeating: 0, count: 12)
        for (i, t) in targets.enumerated() { grad[t * 4 + i] = -0.25 }
        expectGradient(of: "the source of the view", source, grad)
    }

    @Test func oneClassAndRepeatedTargets() {
        let single = nllLoss(Tensor([-0.5, -1.5, -4], shape: [3, 1]), [0, 0, 0])
        #expect(near(single.item(), 2), "one class: −mean(−0.5, −1.5, −4) = 2, got \(single.item())")
        let x = Tensor([-1, -2, -3, -4, -5, -6], shape: [3, 2], requiresGrad: true)
        let loss = nllLoss(x, [1, 1, 1])
        #expect(near(loss.item(), 4), "every row's class 1: −(−2 − 4 − 6)/3 = 4, got \(loss.item())")
        loss.backward()
        expectGradient(of: "logProbs", x, [0, -1.0 / 3, 0, -1.0 / 3, 0, -1.0 / 3])
        observeNear("nllLoss with one class", single.item(), expected: 2)
        observeNear("nllLoss with every row's class 1", loss.item(), expected: 4)

        // Drawn from the grading seed: one class, then one repeated target among several classes.
        var g = SeededGenerator(seed: graded(9201))
        let n = Int.random(in: 2...6, using: &g), classes = Int.random(in: 2...5, using: &g)
        let column = (0..<n).map { _ in -5 * g.nextUnitFloat() }
        let one = nllLoss(Tensor(column, shape: [n, 1]), [Int](repeating: 0, count: n))
        let oneExpected = -column.reduce(0.0) { $0 + Double($1) } / Double(n)
        #expect(near(one.item(), oneExpected), "one class: −mean\(column) = \(oneExpected), got \(one.item())")
        observeNear("nllLoss of drawn \(column) with one class", one.item(), expected: oneExpected)
        let values = (0..<(n * classes)).map { _ in -5 * g.nextUnitFloat() }
        let target = Int.random(in: 0..<classes, using: &g)
        let x2 = Tensor(values, shape: [n, classes], requiresGrad: true)
        let repeated = nllLoss(x2, [Int](repeating: target, count: n))
        let repeatedExpected = -(0..<n).reduce(0.0) { $0 + Double(values[$1 * classes + target]) } / Double(n)
        #expect(near(repeated.item(), repeatedExpected), "every row's class \(target) of a drawn [\(n), \(classes)]: expected \(repeatedExpected), got \(repeated.item())")
        observeNear("nllLoss of a drawn [\(n), \(classes)] with every row's class \(target)", repeated.item(), expected: repeatedExpected)
        repeated.backward()
        expectGradient(of: "drawn logProbs [\(n), \(classes)], every row's class \(target)", x2,
                       (0..<(n * classes)).map { $0 % classes == target ? -1 / Float(n) : 0 })
    }

    @Test func randomBatchAgainstTheDefinition() {
        var g = SeededGenerator(seed: graded(94))
        let (n, classes) = (16, 10)
        let values = randomValues(n * classes, scale: 5, &g)
        let targets = (0..<n).map { _ in Int(g.next(upperBound: UInt64(classes))) }
        let x = Tensor(values, shape: [n, classes], requiresGrad: true)
        let loss = nllLoss(x, targets)
        let expected = -targets.enumerated().reduce(0.0) { $0 + Double(values[$1.0 * classes + $1.1]) } / Double(n)
        expectValues("nllLoss of a random [16, 10] batch", loss, [Float(expected)], shape: [],
                     hints: [.summedNotAveraged(n), .negated])
        loss.backward()
        var grad = [Float](repeating: 0, count: n * classes)
        for (i, t) in targets.enumerated() { grad[i * classes + t] -= 1 / Float(n) }
        expectGradient(of: "logProbs", x, grad)
    }
}

// MARK: - 9.3 crossEntropyRow

@Suite struct Exercise_9_3 {
    @Test func veryNegativeScores() {
        let (loss, p) = ceRow([-10_000, -10_001, -10_002], target: 1)
        // Shifting by a constant changes nothing: the same as scores [0, −1, −2].
        let expected = softmax([0, -1, -2])
        #expect(loss.isFinite && near(loss, 1.40760596),
                "scores [−10000, −10001, −10002], target 1: expected 1.4076060, got \(loss) — exp(−10000) underflows to 0 and log(0) = −∞: subtract the row's maximum first")
        #expect(zip(p, expected).allSatisfy { near($0, $1) }, "probabilities should be softmax([0, −1, −2]) = \(expected), got \(p)")
        observeNear("the loss of scores [−10000, −10001, −10002], target 1", loss, expected: 1.40760596)
        observe("the probabilities of scores [−10000, −10001, −10002]", p, atol: 2e-5)

        // Drawn from the grading seed: other very negative scores (integers, so they are exact in Float).
        var g = SeededGenerator(seed: graded(9301))
        let base = -Float(Int.random(in: 1_000...20_000, using: &g))
        let offsets = (0..<Int.random(in: 2...6, using: &g)).map { _ in Float(Int.random(in: -4...0, using: &g)) }
        let target = Int.random(in: 0..<offsets.count, using: &g)
        let (dLoss, dp) = ceRow(offsets.map { base + $0 }, target: target)
        let shifted = offsets.map(Double.init)
        let (expectedLoss, expectedP) = (logSumExp(shifted) - shifted[target], softmax(shifted))
        #expect(dLoss.isFinite && near(dLoss, expectedLoss) && zip(dp, expectedP).allSatisfy { near($0, $1) },
                "scores \(offsets.map { base + $0 }), target \(target): expected loss \(expectedLoss) and probabilities \(expectedP), got \(dLoss) and \(dp) — subtract the row's maximum first")
        observeNear("the loss of scores \(base) + \(offsets), target \(target)", dLoss, expected: expectedLoss)
        observe("the probabilities of scores \(base) + \(offsets)", dp, atol: 2e-5)
    }

    @Test func veryLargeScores() {
        let (loss, p) = ceRow([500, 1000, 0], target: 0)
        #expect(loss.isFinite && near(loss, 500), "scores [500, 1000, 0], target 0: expected 500, got \(loss)")
        #expect(near(p[1], 1) && p[0] < 1e-30 && p[2] == 0, "probabilities ≈ [0, 1, 0], got \(p)")
        let (equal, q) = ceRow([30_000, 30_000, 30_000, 30_000], target: 3)
        #expect(near(equal, Foundation.log(4)), "four equal scores: log 4 = 1.3862944, got \(equal)")
        #expect(q.allSatisfy { near($0, 0.25) }, "four equal scores: each probability is 1/4, got \(q)")
        observeNear("the loss of scores [500, 1000, 0], target 0", loss, expected: 500)
        observe("the probability of 1000 among scores [500, 1000, 0]", p[1], atol: 2e-5)
        observe("the probabilities of 500 and 0 among scores [500, 1000, 0]", [p[0], p[2]], atol: 1e-30)
        observeNear("the loss of four equal scores of 30000", equal, expected: Foundation.log(4))
        observe("the probabilities of four equal scores of 30000", q, atol: 2e-5)

        // Drawn from the grading seed: other very large scores.
        var g = SeededGenerator(seed: graded(9302))
        let base = Float(Int.random(in: 100...30_000, using: &g))
        let offsets = (0..<Int.random(in: 2...6, using: &g)).map { _ in Float(Int.random(in: -600...0, using: &g)) }
        let target = Int.random(in: 0..<offsets.count, using: &g)
        let (dLoss, dp) = ceRow(offsets.map { base + $0 }, target: target)
        let shifted = offsets.map(Double.init)
        let (expectedLoss, expectedP) = (logSumExp(shifted) - shifted[target], softmax(shifted))
        #expect(dLoss.isFinite && near(dLoss, expectedLoss) && zip(dp, expectedP).allSatisfy { Swift.abs(Double($0) - $1) <= 1e-5 },
                "scores \(offsets.map { base + $0 }), target \(target): expected loss \(expectedLoss) and probabilities \(expectedP), got \(dLoss) and \(dp)")
        observeNear("the loss of scores \(base) + \(offsets), target \(target)", dLoss, expected: expectedLoss)
        observe("the probabilities of scores \(base) + \(offsets)", dp, atol: 2e-5)
    }

    @Test func oneClassAndMinusInfinity() {
        let (single, p) = ceRow([7], target: 0)
        #expect(single == 0 && p == [1], "one class: loss 0, probability 1; got \(single), \(p)")
        let (loss, q) = ceRow([-.infinity, 0, 1], target: 2)
        let expected = softmax([0, 1])
        #expect(near(loss, -Foundation.log(expected[1])), "a −∞ score is a class that cannot happen: expected \(-Foundation.log(expected[1])), got \(loss)")
        #expect(q[0] == 0 && near(q[1], expected[0]) && near(q[2], expected[1]), "expected probabilities [0, \(expected[0]), \(expected[1])], got \(q)")
        observe("the loss and probability of one class", [single] + p)
        observeNear("the loss of scores [−∞, 0, 1], target 2", loss, expected: -Foundation.log(expected[1]))
        observe("the probability of the −∞ score", q[0])
        observe("the probabilities of 0 and 1 among scores [−∞, 0, 1]", [q[1], q[2]], atol: 2e-5)

        // Drawn from the grading seed: another single score, and −∞ scores among finite ones.
        var g = SeededGenerator(seed: graded(9303))
        let lone = Float.random(in: -100..<100, using: &g)
        let (loneLoss, loneP) = ceRow([lone], target: 0)
        #expect(loneLoss == 0 && loneP == [1], "one class (score \(lone)): loss 0, probability 1; got \(loneLoss), \(loneP)")
        observe("the loss and probability of one class with score \(lone)", [loneLoss] + loneP)
        let finite = randomValues(Int.random(in: 2...4, using: &g), scale: 5, &g)
        var scores = finite
        for _ in 0..<Int.random(in: 1...3, using: &g) { scores.insert(-.infinity, at: Int.random(in: 0...scores.count, using: &g)) }
        let finiteAt = scores.indices.filter { scores[$0].isFinite }
        let target = finiteAt.randomElement(using: &g)!
        let (dLoss, dp) = ceRow(scores, target: target)
        let finiteP = softmax(finite.map(Double.init))
        var expectedP = [Double](repeating: 0, count: scores.count)
        for (k, i) in finiteAt.enumerated() { expectedP[i] = finiteP[k] }
        let expectedLoss = -Foundation.log(expectedP[target])
        #expect(near(dLoss, expectedLoss) && zip(dp, expectedP).allSatisfy { $1 == 0 ? $0 == 0 : near($0, $1) },
                "scores \(scores), target \(target): a −∞ score is a class that cannot happen; expected loss \(expectedLoss), probabilities \(expectedP), got \(dLoss), \(dp)")
        observeNear("the loss of scores \(scores), target \(target)", dLoss, expected: expectedLoss)
        observe("the probabilities of the −∞ scores among \(scores)", scores.indices.filter { !scores[$0].isFinite }.map { dp[$0] })
        observe("the probabilities of the finite scores among \(scores)", finiteAt.map { dp[$0] }, atol: 2e-5)
    }

    @Test func randomRowsAgreeWithFloat64() {
        var g = SeededGenerator(seed: graded(95))
        for trial in 0..<200 {
            let classes = 1 + Int(g.next(upperBound: UInt64(20)))
            let logits = randomValues(classes, scale: 20, &g)
            let target = Int(g.next(upperBound: UInt64(classes)))
            let (loss, p) = ceRow(logits, target: target)
            let x = logits.map(Double.init)
            let expectedLoss = logSumExp(x) - x[target], expectedP = softmax(x)
            let ok = near(loss, expectedLoss, 1e-4) && zip(p, expectedP).allSatisfy { Swift.abs(Double($0) - $1) <= 1e-6 }
            #expect(ok, "trial \(trial): scores \(logits), target \(target): expected loss \(expectedLoss), probabilities \(expectedP); got \(loss), \(p)")
            observeNear("trial \(trial): the loss of drawn scores", loss, expected: expectedLoss, 1e-4)
            if trial < 40 { observe("trial \(trial): the probabilities of drawn scores", p, atol: 2e-6) }
            if !ok { return }  // one failing case is enough to read
        }
    }

    @Test func crossEntropyOfATransposedBatch() {
        var g = SeededGenerator(seed: graded(96))
        let values = randomValues(15, scale: 4, &g)
        let logits = Tensor(values, shape: [5, 3]).transposed()      // [3, 5], not contiguous
        let targets = [4, 0, 2]
        let rows = logits.toArray()
        let expected = targets.enumerated().reduce(0.0) { total, pair in
            let row = rows[(pair.0 * 5)..<(pair.0 * 5 + 5)].map(Double.init)
            return total + logSumExp(row) - row[pair.1]
        } / 3
        let loss = crossEntropy(logits, targets)
        #expect(near(loss.item(), expected), "crossEntropy of a transposed [3, 5] view: expected \(expected), got \(loss.item())")
        observeNear("crossEntropy of a drawn transposed [3, 5] view", loss.item(), expected: expected)
    }
}

// MARK: - 9.4 crossEntropyGradient

@Suite struct Exercise_9_4 {
    @Test func randomBatchThroughBackward() {
        var g = SeededGenerator(seed: graded(97))
        let (n, classes) = (8, 6)
        let values = randomValues(n * classes, scale: 3, &g)
        let targets = (0..<n).map { _ in Int(g.next(upperBound: UInt64(classes))) }
        let logits = Tensor(values, shape: [n, classes], requiresGrad: true)
        crossEntropy(logits, targets).backward()
        var expected: [Float] = []
        for i in 0..<n {
            var p = softmax(values[(i * classes)..<((i + 1) * classes)].map(Double.init))
            p[targets[i]] -= 1
            expected += p.map { Float($0 / Double(n)) }
        }
        expectValues("the gradient of the logits", logits.grad, expected, shape: [n, classes], atol: 1e-6, rtol: 1e-4,
                     hints: [.missingOneHot, .summedNotAveraged(n), .negated])
    }

    @Test func theUpstreamGradientScalesIt() {
        let logits = Tensor([0, 0, 0, 0], shape: [2, 2], requiresGrad: true)
        (crossEntropy(logits, [0, 1]) * 3).backward()
        // (softmax − onehot)/2 · 3 = ±0.75
        expectGradient(of: "the logits of 3 · crossEntropy", logits, [-0.75, 0.75, 0.75, -0.75])

        // Drawn from the grading seed: other logits, targets and upstream factor.
        var g = SeededGenerator(seed: graded(9402))
        let (n, classes) = (Int.random(in: 1...5, using: &g), Int.random(in: 2...5, using: &g))
        let values = randomValues(n * classes, scale: 3, &g)
        let targets = (0..<n).map { _ in Int.random(in: 0..<classes, using: &g) }
        let factor = Float(Int.random(in: 2...9, using: &g)) / 2
        let x = Tensor(values, shape: [n, classes], requiresGrad: true)
        (crossEntropy(x, targets) * factor).backward()
        expectGradient(of: "drawn logits [\(n), \(classes)] of \(factor) · crossEntropy, targets \(targets)", x,
                       referenceCrossEntropyGradient(values, classes: classes, targets: targets, scale: Double(factor) / Double(n)))
    }

    @Test func eachRowSumsToZero() {
        let probabilities = Tensor([0.1, 0.2, 0.7, 0.25, 0.25, 0.5, 1, 0, 0], shape: [3, 3])
        let grad = crossEntropyGradient(probabilities: probabilities, targets: [2, 2, 0], scale: 2)
        expectValues("crossEntropyGradient with scale 2", grad, [0.2, 0.4, -0.6, 0.5, 0.5, -1, 0, 0, 0], shape: [3, 3],
                     hints: [.missingOneHot])

        // Drawn from the grading seed: other probabilities, targets and scale.
        var g = SeededGenerator(seed: graded(9403))
        let (n, classes) = (Int.random(in: 1...5, using: &g), Int.random(in: 2...5, using: &g))
        let rows = (0..<n).flatMap { _ -> [Float] in
            let raw = (0..<classes).map { _ in g.nextUnitFloat() + 0.01 }
            let total = raw.reduce(0, +)
            return raw.map { $0 / total }
        }
        let targets = (0..<n).map { _ in Int.random(in: 0..<classes, using: &g) }
        let scale = Float(Int.random(in: 1...16, using: &g)) / 4
        var expected = rows.map { $0 * scale }
        for (i, t) in targets.enumerated() { expected[i * classes + t] -= scale }
        expectValues("crossEntropyGradient of drawn probabilities [\(n), \(classes)], targets \(targets), scale \(scale)",
                     crossEntropyGradient(probabilities: Tensor(rows, shape: [n, classes]), targets: targets, scale: scale), expected, shape: [n, classes],
                     hints: [.missingOneHot])
    }

    @Test func aViewOfProbabilities() {
        // The probabilities may arrive as a view: here the transpose of a [3, 2] tensor.
        let probabilities = Tensor([0.3, 0.6, 0.7, 0.4, 0, 0], shape: [3, 2]).transposed()  // rows [0.3, 0.7, 0], [0.6, 0.4, 0]
        let grad = crossEntropyGradient(probabilities: probabilities, targets: [0, 1], scale: 1)
        expectValues("crossEntropyGradient of a transposed view", grad, [-0.7, 0.7, 0, 0.6, -0.6, 0], shape: [2, 3])

        // Drawn from the grading seed: another transposed view of probabilities.
        var g = SeededGenerator(seed: graded(9404))
        let (n, classes) = (Int.random(in: 2...5, using: &g), Int.random(in: 2...5, using: &g))
        let rows = (0..<n).flatMap { _ -> [Float] in
            let raw = (0..<classes).map { _ in g.nextUnitFloat() + 0.01 }
            let total = raw.reduce(0, +)
            return raw.map { $0 / total }
        }
        let view = Tensor(transposedValues(rows, rows: n, cols: classes), shape: [classes, n]).transposed()  // [n, classes]: the rows drawn
        let targets = (0..<n).map { _ in Int.random(in: 0..<classes, using: &g) }
        let scale = Float(Int.random(in: 1...8, using: &g)) / 4
        var expected = rows.map { $0 * scale }
        for (i, t) in targets.enumerated() { expected[i * classes + t] -= scale }
        expectValues("crossEntropyGradient of a drawn transposed view [\(n), \(classes)], targets \(targets), scale \(scale)",
                     crossEntropyGradient(probabilities: view, targets: targets, scale: scale), expected, shape: [n, classes])
    }

    @Test func aTransposedBatchThroughBackward() {
        let source = Tensor([1, 0, 2, 0, 3, 0], shape: [3, 2], requiresGrad: true)
        let logits = source.transposed()                              // [2, 3]: rows [1, 2, 3], [0, 0, 0]
        crossEntropy(logits, [2, 0]).backward()
        let p = softmax([1, 2, 3])
        let row0 = [p[0], p[1], p[2] - 1].map { Float($0 / 2) }
        let third: Float = 1.0 / 3
        let row1: [Float] = [(third - 1) / 2, third / 2, third / 2]
        // source[i, j] = logits[j, i]
        expectGradient(of: "the source of the transposed logits", source,
                       [row0[0], row1[0], row0[1], row1[1], row0[2], row1[2]])

        // Drawn from the grading seed: another transposed batch.
        var g = SeededGenerator(seed: graded(9405))
        let (n, classes) = (Int.random(in: 2...5, using: &g), Int.random(in: 2...5, using: &g))
        let stored = randomValues(classes * n, scale: 3, &g)
        let targets = (0..<n).map { _ in Int.random(in: 0..<classes, using: &g) }
        let other = Tensor(stored, shape: [classes, n], requiresGrad: true)
        crossEntropy(other.transposed(), targets).backward()
        let logitGradient = referenceCrossEntropyGradient(transposedValues(stored, rows: classes, cols: n), classes: classes, targets: targets,
                                                          scale: 1 / Double(n))
        expectGradient(of: "the drawn source [\(classes), \(n)] of transposed logits, targets \(targets)", other,
                       transposedValues(logitGradient, rows: n, cols: classes))
    }
}

// MARK: - 9.5 binaryCrossEntropyWithLogits

@Suite struct Exercise_9_5 {
    /// −[y·log σ(x) + (1 − y)·log(1 − σ(x))] in Float64, written as (1 − y)·x + log(1 + e^(−x)).
    private static func reference(_ x: Double, _ y: Double) -> Double {
        let softplusOfMinusX = Swift.max(-x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
        return (1 - y) * x + softplusOfMinusX
    }

    @Test func extremeScoresAndEveryKindOfTarget() {
        for x: Float in [-1000, -100, -20, -1e-3, 0, 1e-3, 20, 100, 1000] {
            for y: Float in [0, 0.3, 1] {
                let got = binaryCrossEntropyWithLogits(logit: x, target: y)
                let expected = Self.reference(Double(x), Double(y))
                let ok = got.isFinite && near(got, expected, 1e-5)
                #expect(ok, "x = \(x), y = \(y): expected \(expected), got \(got)\(got.isFinite ? "" : " — compute max(x, 0) − x·y + log(1 + e^(−|x|)): e^(−|x|) never overflows")")
                observeNear("binaryCrossEntropyWithLogits(logit: \(x), target: \(y))", got, expected: expected)
                if !ok { return }
            }
        }

        // Drawn from the grading seed: other extreme scores and targets.
        var g = SeededGenerator(seed: graded(9501))
        for _ in 0..<12 {
            let x = (Bool.random(using: &g) ? 1 : -1) * Foundation.pow(10, Float.random(in: -3..<3, using: &g))
            let y = Float(Int.random(in: 0...8, using: &g)) / 8  // eighths: x·y stays accurate to a few units of x's last place
            let got = binaryCrossEntropyWithLogits(logit: x, target: y)
            let expected = Self.reference(Double(x), Double(y))
            #expect(got.isFinite && near(got, expected, 1e-5),
                    "x = \(x), y = \(y): expected \(expected), got \(got)\(got.isFinite ? "" : " — compute max(x, 0) − x·y + log(1 + e^(−|x|)): e^(−|x|) never overflows")")
            observeNear("binaryCrossEntropyWithLogits(logit: \(x), target: \(y))", got, expected: expected)
        }
    }

    @Test func smallScoresKeepTheirDigits() {
        // log(1 + e^(−|x|)) near x = 0 needs log1p for full precision of tiny differences.
        let a = binaryCrossEntropyWithLogits(logit: 1e-4, target: 0)
        #expect(near(a, Self.reference(1e-4, 0), 1e-6), "x = 1e−4, y = 0: expected \(Self.reference(1e-4, 0)), got \(a)")
        let b = binaryCrossEntropyWithLogits(logit: 30, target: 1)
        #expect(b > 0 && near(b, Self.reference(30, 1), 1e-3), "x = 30, y = 1: a tiny but positive loss ≈ 9.4e−14, got \(b)")
        observeNear("binaryCrossEntropyWithLogits(logit: 1e−4, target: 0)", a, expected: Self.reference(1e-4, 0), 1e-6)
        observe("binaryCrossEntropyWithLogits(logit: 30, target: 1) (tiny but positive)", Double(b), atol: 2e-3)
        observe("whether binaryCrossEntropyWithLogits(logit: 30, target: 1) is positive", b > 0)

        // Drawn from the grading seed: other scores near 0, and other large scores with target 1.
        var g = SeededGenerator(seed: graded(9502))
        for _ in 0..<4 {
            let x = (Bool.random(using: &g) ? 1 : -1) * Float.random(in: 1e-5..<1e-3, using: &g), y = [0, 1, g.nextUnitFloat()].randomElement(using: &g)!
            let got = binaryCrossEntropyWithLogits(logit: x, target: y)
            let expected = Self.reference(Double(x), Double(y))
            #expect(near(got, expected, 1e-6), "x = \(x), y = \(y): expected \(expected), got \(got)")
            observeNear("binaryCrossEntropyWithLogits(logit: \(x), target: \(y))", got, expected: expected, 1e-6)
        }
        for _ in 0..<4 {
            let x = Float(Int.random(in: 20...80, using: &g))
            let got = binaryCrossEntropyWithLogits(logit: x, target: 1)
            let expected = Self.reference(Double(x), 1)
            #expect(got > 0 && Swift.abs(Double(got) - expected) <= 1e-3 * expected,
                    "x = \(x), y = 1: a tiny but positive loss ≈ \(expected), got \(got) — log(1 + e^(−|x|)) needs log1p to keep it")
            observe("binaryCrossEntropyWithLogits(logit: \(x), target: 1) (tiny but positive)", Double(got), rtol: 2e-3)
        }
    }

    @Test func flippingTheScoreAndTheTargetChangesNothing() {
        var g = SeededGenerator(seed: graded(98))
        var symmetric = 0
        for _ in 0..<100 {
            let x = (2 * g.nextUnitFloat() - 1) * 50, y = g.nextUnitFloat()
            let a = binaryCrossEntropyWithLogits(logit: x, target: y), b = binaryCrossEntropyWithLogits(logit: -x, target: 1 - y)
            let ok = Swift.abs(a - b) <= 1e-4 * Swift.max(1, Swift.abs(a))
            #expect(ok, "bce(x, y) = bce(−x, 1 − y): x = \(x), y = \(y) gives \(a) and \(b)")
            if !ok { observe("the number of drawn (x, y) with bce(x, y) = bce(−x, 1 − y)", symmetric); return }
            symmetric += 1
        }
        observe("the number of drawn (x, y) with bce(x, y) = bce(−x, 1 − y)", symmetric)

        // Drawn from the grading seed: both sides of the symmetry, against the reference.
        var r = SeededGenerator(seed: graded(9503))
        for _ in 0..<8 {
            let x = (2 * r.nextUnitFloat() - 1) * 50, y = r.nextUnitFloat()
            let a = binaryCrossEntropyWithLogits(logit: x, target: y), b = binaryCrossEntropyWithLogits(logit: -x, target: 1 - y)
            let (ea, eb) = (Self.reference(Double(x), Double(y)), Self.reference(-Double(x), 1 - Double(y)))
            #expect(near(a, ea, 1e-5) && near(b, eb, 1e-5), "bce(\(x), \(y)) should be \(ea) and bce(\(-x), \(1 - y)) \(eb); got \(a) and \(b)")
            observeNear("binaryCrossEntropyWithLogits(logit: \(x), target: \(y))", a, expected: ea)
            observeNear("binaryCrossEntropyWithLogits(logit: \(-x), target: \(1 - y))", b, expected: eb)
        }
    }

    @Test func theTensorLossOnViews() {
        let logits = Tensor([-200, 0.5, 3, 200, -1, 0], shape: [3, 2]).transposed()   // [2, 3]
        let targets = Tensor([1, 0, 0.5, 1, 0, 0.2], shape: [2, 3])
        let loss = binaryCrossEntropyWithLogits(logits, targets)
        let x = logits.toArray(), y = targets.toArray()
        let expected = zip(x, y).reduce(0.0) { $0 + Self.reference(Double($1.0), Double($1.1)) } / 6
        #expect(near(loss.item(), expected), "the mean over a transposed [2, 3] view: expected \(expected), got \(loss.item())")
        observeNear("binaryCrossEntropyWithLogits over a transposed [2, 3] view", loss.item(), expected: expected)

        // Drawn from the grading seed: another transposed view of logits and other targets.
        var g = SeededGenerator(seed: graded(9504))
        let (rows, cols) = (Int.random(in: 2...4, using: &g), Int.random(in: 2...5, using: &g))
        let stored = randomValues(rows * cols, scale: 300, &g), targetValues = (0..<(rows * cols)).map { _ in g.nextUnitFloat() }
        let view = Tensor(stored, shape: [cols, rows]).transposed()  // [rows, cols]
        let drawnLoss = binaryCrossEntropyWithLogits(view, Tensor(targetValues, shape: [rows, cols]))
        let logical = transposedValues(stored, rows: cols, cols: rows)
        let drawnExpected = zip(logical, targetValues).reduce(0.0) { $0 + Self.reference(Double($1.0), Double($1.1)) } / Double(rows * cols)
        #expect(near(drawnLoss.item(), drawnExpected), "the mean over a drawn transposed [\(rows), \(cols)] view: expected \(drawnExpected), got \(drawnLoss.item())")
        observeNear("binaryCrossEntropyWithLogits over a drawn transposed [\(rows), \(cols)] view", drawnLoss.item(), expected: drawnExpected)
    }
}

// MARK: - 9.6 SGD

@Suite struct Exercise_9_6 {
    /// Runs `steps` steps of SGD(options) on two parameters of different sizes
    /// with random gradients, against the Float64 reference.
    private static func check(momentum: Float, weightDecay: Float, nesterov: Bool, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        let sizes = [5, 3]
        let params = sizes.map { Tensor(randomValues($0, &g), requiresGrad: true) }
        var reference = params.map { $0.toArray().map(Double.init) }
        var references = sizes.map { _ in ReferenceSGD(lr: 0.05, momentum: Double(momentum), weightDecay: Double(weightDecay), nesterov: nesterov) }
        let optimizer = SGD(parameters: params, learningRate: 0.05, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
        for step in 1...6 {
            for (k, p) in params.enumerated() {
                let grad = randomValues(p.count, scale: 2, &g)
                p.grad = Tensor(grad)
                references[k].step(&reference[k], grad.map(Double.init))
            }
            optimizer.step()
            for (k, p) in params.enumerated() {
                // Each within atol 1e-5 + rtol 1e-4 of the Float64 reference (so within twice that of the reference library's).
                observe("parameter \(k) after step \(step) of SGD(momentum: \(momentum), weightDecay: \(weightDecay), nesterov: \(nesterov)) with drawn gradients", p,
                        atol: 2e-5, rtol: 2e-4)
            }
            for (k, p) in params.enumerated() where !allClose(p, reference[k].map { Float($0) }) {
                expectValues("parameter \(k) (of 2, sizes \(sizes)) after step \(step) of SGD(momentum: \(momentum), weightDecay: \(weightDecay), nesterov: \(nesterov)) with random gradients",
                             p, reference[k].map { Float($0) }, shape: [sizes[k]], hints: k == 1 ? [.ownStatePerParameter("velocity[index]")] : [])
                return  // one failing step is enough to read
            }
        }
    }

    @Test func plainWithWeightDecay() { Self.check(momentum: 0, weightDecay: 0.1, nesterov: false, seed: graded(61)) }
    @Test func momentumKeepsOneVelocityPerParameter() { Self.check(momentum: 0.9, weightDecay: 0, nesterov: false, seed: graded(62)) }
    @Test func momentumAndWeightDecay() { Self.check(momentum: 0.8, weightDecay: 0.05, nesterov: false, seed: graded(63)) }
    @Test func nesterov() { Self.check(momentum: 0.9, weightDecay: 0.01, nesterov: true, seed: graded(64)) }

    @Test func aNewLearningRateIsUsedAtOnce() {
        let p = Tensor([1, 1], requiresGrad: true)
        let optimizer = SGD(parameters: [p], learningRate: 0.1, momentum: 0.5)
        p.grad = Tensor([1, -1])
        optimizer.step()                      // v = g, θ = [0.9, 1.1]
        optimizer.learningRate = 0.01         // as a scheduler would
        p.grad = Tensor([1, -1])
        optimizer.step()                      // v = 1.5 g, θ = [0.885, 1.115]
        expectValues("the parameter after a learning-rate change", p, [0.885, 1.115], shape: [2])

        // Drawn from the grading seed: other rates, momentum, parameter and gradients.
        var g = SeededGenerator(seed: graded(9601))
        let (lr1, lr2) = (Float(Int.random(in: 1...20, using: &g)) / 100, Float(Int.random(in: 1...20, using: &g)) / 1000)
        let momentum = Float(Int.random(in: 1...9, using: &g)) / 10
        let start = randomValues(3, &g), grads = [randomValues(3, &g), randomValues(3, &g)]
        let q = Tensor(start, requiresGrad: true)
        let drawn = SGD(parameters: [q], learningRate: lr1, momentum: momentum)
        var reference = ReferenceSGD(lr: Double(lr1), momentum: Double(momentum), weightDecay: 0, nesterov: false)
        var theta = start.map(Double.init)
        for (step, grad) in grads.enumerated() {
            if step == 1 {
                drawn.learningRate = lr2
                reference.lr = Double(lr2)
            }
            q.grad = Tensor(grad)
            drawn.step()
            reference.step(&theta, grad.map(Double.init))
        }
        expectValues("the parameter after a step at lr \(lr1), then one at lr \(lr2) (momentum \(momentum))", q, theta.map { Float($0) }, shape: [3])
    }

    @Test func matchesPyTorchNesterov() {
        let (w, b) = GoldenProblem.run { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, nesterov: true) }
        expectValues("w after 5 steps of SGD(lr 0.1, momentum 0.9, nesterov) — recorded with PyTorch", w,
                     [0.08113746, -0.33426392, -0.0037657465, -0.43889695, 0.03268767, 0.35877618], shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 steps of SGD(lr 0.1, momentum 0.9, nesterov) — recorded with PyTorch", b,
                     [0.17632352, -0.13812365], shape: [2], atol: 1e-5)

        // Drawn from the grading seed: a problem of the same form, against a Float64 run worked out by the test.
        var g = SeededGenerator(seed: graded(9602))
        let problem = DrawnProblem(&g)
        let (w2, b2) = problem.run { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, nesterov: true) }
        var references = [ReferenceSGD](repeating: ReferenceSGD(lr: 0.1, momentum: 0.9, weightDecay: 0, nesterov: true), count: 2)
        let expected = problem.reference { k, theta, grad in references[k].step(&theta, grad) }
        expectValues("w after 5 steps of SGD(lr 0.1, momentum 0.9, nesterov) on a drawn problem", w2, expected.w, shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 steps of SGD(lr 0.1, momentum 0.9, nesterov) on a drawn problem", b2, expected.b, shape: [2], atol: 1e-5)
    }

    @Test func matchesPyTorchMomentumAndWeightDecay() {
        let (w, b) = GoldenProblem.run { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01) }
        expectValues("w after 5 steps of SGD(lr 0.1, momentum 0.9, weight decay 0.01) — recorded with PyTorch", w,
                     [0.059735443, -0.29792172, 0.012519772, -0.43238154, 0.03826307, 0.32941478], shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 steps — recorded with PyTorch", b, [0.17155409, -0.15656993], shape: [2], atol: 1e-5)

        // Drawn from the grading seed: a problem of the same form, against a Float64 run worked out by the test.
        var g = SeededGenerator(seed: graded(9603))
        let problem = DrawnProblem(&g)
        let (w2, b2) = problem.run { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01) }
        var references = [ReferenceSGD](repeating: ReferenceSGD(lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: false), count: 2)
        let expected = problem.reference { k, theta, grad in references[k].step(&theta, grad) }
        expectValues("w after 5 steps of SGD(lr 0.1, momentum 0.9, weight decay 0.01) on a drawn problem", w2, expected.w, shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 steps of SGD(lr 0.1, momentum 0.9, weight decay 0.01) on a drawn problem", b2, expected.b, shape: [2], atol: 1e-5)
    }
}

// MARK: - 9.7 Adam

@Suite struct Exercise_9_7 {
    private static func check(weightDecay: Float, decoupled: Bool, betas: (Float, Float), seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        let sizes = [4, 7]
        let params = sizes.map { Tensor(randomValues($0, &g), requiresGrad: true) }
        var reference = params.map { $0.toArray().map(Double.init) }
        var references = sizes.map { _ in
            ReferenceAdam(lr: 0.01, beta1: Double(betas.0), beta2: Double(betas.1), epsilon: 1e-8,
                          weightDecay: Double(weightDecay), decoupled: decoupled)
        }
        let optimizer: Optimizer = decoupled
            ? AdamW(parameters: params, learningRate: 0.01, betas: betas, weightDecay: weightDecay)
            : Adam(parameters: params, learningRate: 0.01, betas: betas, weightDecay: weightDecay)
        let name = "\(decoupled ? "AdamW" : "Adam")(betas: \(betas), weightDecay: \(weightDecay))"
        for step in 1...20 {
            for (k, p) in params.enumerated() {
                let grad = randomValues(p.count, scale: step % 2 == 0 ? 3 : 0.1, &g)
                p.grad = Tensor(grad)
                references[k].step(&reference[k], grad.map(Double.init))
            }
            optimizer.step()
            for (k, p) in params.enumerated() {
                // Each within atol 1e-5 + rtol 1e-4 of the Float64 reference (so within twice that of the reference library's).
                observe("parameter \(k) after step \(step) of \(name) with drawn gradients", p, atol: 2e-5, rtol: 2e-4)
            }
            for (k, p) in params.enumerated() where !allClose(p, reference[k].map { Float($0) }) {
                expectValues("parameter \(k) (of 2, sizes \(sizes)) after step \(step) of \(name) with random gradients",
                             p, reference[k].map { Float($0) }, shape: [sizes[k]], hints: k == 1 ? [.ownStatePerParameter("m[index], v[index] and updates[index]")] : [])
                return  // one failing step is enough to read
            }
        }
    }

    @Test func randomGradientsAgainstFloat64() { Self.check(weightDecay: 0, decoupled: false, betas: (0.9, 0.999), seed: graded(71)) }
    @Test func otherBetasAndWeightDecay() { Self.check(weightDecay: 0.1, decoupled: false, betas: (0.8, 0.99), seed: graded(72)) }
    @Test func decoupledWeightDecay() { Self.check(weightDecay: 0.1, decoupled: true, betas: (0.9, 0.999), seed: graded(73)) }

    @Test func theFirstStepIgnoresTheGradientsScale() {
        for scale: Float in [1e-3, 1, 1e3] {
            let p = Tensor([0, 0, 0], requiresGrad: true)
            p.grad = Tensor([scale, -scale, 0])
            Adam(parameters: [p], learningRate: 0.01).step()
            expectValues("the first Adam step with gradients [\(scale), \(-scale), 0]", p, [-0.01, 0.01, 0], shape: [3],
                         atol: 2e-5, rtol: 1e-3, hints: [])
        }

        // Drawn from the grading seed: other gradients of every size, another rate and a start away from 0.
        var g = SeededGenerator(seed: graded(9701))
        let lr = Float(Int.random(in: 1...50, using: &g)) / 1000
        let grad = (0..<5).map { _ in (Bool.random(using: &g) ? 1 : -1) * Foundation.pow(10, Float.random(in: -3..<3, using: &g)) } + [0]
        let start = randomValues(6, &g)
        let q = Tensor(start, requiresGrad: true)
        q.grad = Tensor(grad)
        Adam(parameters: [q], learningRate: lr).step()
        expectValues("the first Adam step (lr \(lr)) from \(start) with gradients \(grad)", q,
                     zip(start, grad).map { $0 - ($1 == 0 ? 0 : lr * ($1 > 0 ? 1 : -1)) }, shape: [6], atol: 2e-5, rtol: 1e-3, hints: [])
    }

    @Test func eachParameterCountsItsOwnSteps() {
        // PyTorch: the bias gets no gradient on step 1, so its bias correction starts a step later.
        let (w, b) = GoldenProblem.run(frozen: [1]) { Adam(parameters: $0, learningRate: 0.01) }
        expectValues("w after 5 Adam steps, the bias frozen on step 1 — recorded with PyTorch", w,
                     [0.022812067, -0.38388956, 0.048706, -0.45707023, 0.07280323, -0.05132667], shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 Adam steps, frozen on step 1 (so it had 4 updates: t counts per parameter) — recorded with PyTorch", b,
                     [0.12450963, -0.019670423], shape: [2], atol: 1e-5)

        // Drawn from the grading seed: a problem of the same form, the bias frozen on other steps, against a Float64 run.
        var g = SeededGenerator(seed: graded(9702))
        let problem = DrawnProblem(&g)
        let frozen: Set<Int> = [1, Int.random(in: 2...4, using: &g)]
        let (w2, b2) = problem.run(frozen: frozen) { Adam(parameters: $0, learningRate: 0.01) }
        var references = [ReferenceAdam](repeating: ReferenceAdam(lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupled: false), count: 2)
        let expected = problem.reference(frozen: frozen) { k, theta, grad in references[k].step(&theta, grad) }
        expectValues("w after 5 Adam steps on a drawn problem, the bias frozen on steps \(frozen.sorted())", w2, expected.w, shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 Adam steps on a drawn problem, frozen on steps \(frozen.sorted()) (t counts per parameter)", b2, expected.b, shape: [2], atol: 1e-5)
    }

    @Test func matchesPyTorchAdamW() {
        let (w, b) = GoldenProblem.run { AdamW(parameters: $0, learningRate: 0.01, weightDecay: 0.1) }
        expectValues("w after 5 steps of AdamW(lr 0.01, weight decay 0.1) — recorded with PyTorch", w,
                     [0.06739667, -0.38193223, 0.04781981, -0.45564577, 0.06998906, -0.050913535], shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 steps of AdamW — recorded with PyTorch", b, [0.13433181, -0.029600196], shape: [2], atol: 1e-5)

        // Drawn from the grading seed: a problem of the same form, against a Float64 run worked out by the test.
        var g = SeededGenerator(seed: graded(9703))
        let problem = DrawnProblem(&g)
        let (w2, b2) = problem.run { AdamW(parameters: $0, learningRate: 0.01, weightDecay: 0.1) }
        var references = [ReferenceAdam](repeating: ReferenceAdam(lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, decoupled: true), count: 2)
        let expected = problem.reference { k, theta, grad in references[k].step(&theta, grad) }
        expectValues("w after 5 steps of AdamW(lr 0.01, weight decay 0.1) on a drawn problem", w2, expected.w, shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 steps of AdamW(lr 0.01, weight decay 0.1) on a drawn problem", b2, expected.b, shape: [2], atol: 1e-5)
    }

    @Test func zeroGradientsStayFinite() {
        let p = Tensor([1, -1], requiresGrad: true)
        let optimizer = Adam(parameters: [p], learningRate: 0.1)
        for _ in 0..<3 {
            p.grad = Tensor([0, 0])
            optimizer.step()
        }
        expectValues("a parameter after three steps with zero gradients", p, [1, -1], shape: [2], hints: [])

        // Drawn from the grading seed: another parameter, rate and number of steps.
        var g = SeededGenerator(seed: graded(9704))
        let start = randomValues(Int.random(in: 2...6, using: &g), scale: 3, &g)
        let steps = Int.random(in: 1...6, using: &g)
        let q = Tensor(start, requiresGrad: true)
        let drawn = Adam(parameters: [q], learningRate: Float(Int.random(in: 1...50, using: &g)) / 100)
        for _ in 0..<steps {
            q.grad = Tensor([Float](repeating: 0, count: start.count))
            drawn.step()
        }
        expectValues("a drawn parameter after \(steps) steps with zero gradients", q, start, shape: [start.count], hints: [])
    }
}

// MARK: - 9.8 CosineAnnealingLR

@Suite struct Exercise_9_8 {
    @Test func matchesPyTorchWithAMinimum() {
        let optimizer = SGD(parameters: [Tensor([0], requiresGrad: true)], learningRate: 0.1)
        let schedule = CosineAnnealingLR(optimizer, totalEpochs: 10, minimum: 0.001)
        let pytorch: [Float] = [0.097577296, 0.09054634, 0.07959537, 0.06579634, 0.0505, 0.035203658,
                                0.02140463, 0.010453659, 0.0034227024, 0.001]
        for (epoch, expected) in pytorch.enumerated() {
            schedule.step()
            let ok = Swift.abs(optimizer.learningRate - expected) <= 1e-6
            #expect(ok, "after epoch \(epoch + 1) of 10 (lr₀ 0.1, minimum 0.001): PyTorch's rate is \(expected), got \(optimizer.learningRate)")
            observe("the learning rate after epoch \(epoch + 1) of 10 (lr₀ 0.1, minimum 0.001)", optimizer.learningRate, atol: 2e-6)
            if !ok { return }
        }

        // Drawn from the grading seed: another initial rate, minimum and length.
        var g = SeededGenerator(seed: graded(9801))
        let initial = Float(Int.random(in: 10...100, using: &g)) / 100, minimum = Float(Int.random(in: 0...9, using: &g)) / 1000
        let total = Int.random(in: 2...12, using: &g)
        let other = SGD(parameters: [Tensor([0], requiresGrad: true)], learningRate: initial)
        let drawn = CosineAnnealingLR(other, totalEpochs: total, minimum: minimum)
        for epoch in 1...total {
            drawn.step()
            let expected = Double(minimum) + Double(initial - minimum) * (1 + Foundation.cos(Double.pi * Double(epoch) / Double(total))) / 2
            let ok = Swift.abs(Double(other.learningRate) - expected) <= 1e-6
            #expect(ok, "after epoch \(epoch) of \(total) (lr₀ \(initial), minimum \(minimum)): the rate is \(expected), got \(other.learningRate)")
            observe("the learning rate after epoch \(epoch) of \(total) (lr₀ \(initial), minimum \(minimum))", other.learningRate, atol: 2e-6)
            if !ok { return }
        }
    }

    @Test func startsFromTheInitialRateEveryTime() {
        // The formula uses lr₀, never the current rate: multiplying the current
        // rate by a factor each epoch compounds and ends far too low.
        let optimizer = SGD(parameters: [Tensor([0], requiresGrad: true)], learningRate: 0.3)
        let schedule = CosineAnnealingLR(optimizer, totalEpochs: 3, minimum: 0.01)
        schedule.step()
        schedule.step()
        let expected = 0.01 + 0.29 * (1 + Foundation.cos(2 * Double.pi / 3)) / 2
        #expect(near(optimizer.learningRate, expected, 1e-6), "after 2 of 3 epochs: 0.01 + 0.29·(1 + cos(2π/3))/2 = \(expected), got \(optimizer.learningRate)")
        #expect(schedule.epoch == 2, "`epoch` counts the step() calls: expected 2, got \(schedule.epoch)")
        observeNear("the learning rate after 2 of 3 epochs (lr₀ 0.3, minimum 0.01)", optimizer.learningRate, expected: expected, 1e-6)
        observe("the schedule's epoch after two step() calls", schedule.epoch)

        // Drawn from the grading seed: another schedule, stopped partway.
        var g = SeededGenerator(seed: graded(9802))
        let initial = Float(Int.random(in: 10...100, using: &g)) / 100, minimum = Float(Int.random(in: 0...50, using: &g)) / 1000
        let total = Int.random(in: 3...20, using: &g), steps = Int.random(in: 1..<total, using: &g)
        let other = SGD(parameters: [Tensor([0], requiresGrad: true)], learningRate: initial)
        let drawn = CosineAnnealingLR(other, totalEpochs: total, minimum: minimum)
        for _ in 0..<steps { drawn.step() }
        let drawnExpected = Double(minimum) + Double(initial - minimum) * (1 + Foundation.cos(Double.pi * Double(steps) / Double(total))) / 2
        #expect(near(other.learningRate, drawnExpected, 1e-6) && drawn.epoch == steps,
                "after \(steps) of \(total) epochs: \(minimum) + \(initial - minimum)·(1 + cos(π·\(steps)/\(total)))/2 = \(drawnExpected) at epoch \(steps), got \(other.learningRate) at epoch \(drawn.epoch)")
        observeNear("the learning rate after \(steps) of \(total) epochs (lr₀ \(initial), minimum \(minimum))", other.learningRate, expected: drawnExpected, 1e-6)
        observe("the schedule's epoch after \(steps) step() calls", drawn.epoch)
    }

    @Test func oneEpochGoesStraightToTheMinimum() {
        let optimizer = SGD(parameters: [Tensor([0], requiresGrad: true)], learningRate: 0.2)
        let schedule = CosineAnnealingLR(optimizer, totalEpochs: 1, minimum: 0.02)
        schedule.step()
        #expect(near(optimizer.learningRate, 0.02, 1e-6), "T = 1: after one epoch the rate is the minimum 0.02, got \(optimizer.learningRate)")
        for _ in 0..<3 { schedule.step() }
        #expect(near(optimizer.learningRate, 0.02, 1e-6), "past T the rate stays at the minimum (it must not climb back up the cosine), got \(optimizer.learningRate)")
        observeNear("the learning rate after 4 epochs of a 1-epoch schedule (minimum 0.02)", optimizer.learningRate, expected: 0.02, 1e-6)

        // Drawn from the grading seed: another schedule, run past its end.
        var g = SeededGenerator(seed: graded(9803))
        let initial = Float(Int.random(in: 10...100, using: &g)) / 100, minimum = Float(Int.random(in: 1...90, using: &g)) / 1000
        let total = Int.random(in: 1...5, using: &g), extra = Int.random(in: 1...6, using: &g)
        let other = SGD(parameters: [Tensor([0], requiresGrad: true)], learningRate: initial)
        let drawn = CosineAnnealingLR(other, totalEpochs: total, minimum: minimum)
        for _ in 0..<total { drawn.step() }
        #expect(near(other.learningRate, Double(minimum), 1e-6), "after all \(total) epochs the rate is the minimum \(minimum), got \(other.learningRate)")
        observeNear("the learning rate after all \(total) epochs (lr₀ \(initial), minimum \(minimum))", other.learningRate, expected: Double(minimum), 1e-6)
        for _ in 0..<extra { drawn.step() }
        #expect(near(other.learningRate, Double(minimum), 1e-6), "\(extra) epochs past T the rate stays at the minimum \(minimum) (it must not climb back up the cosine), got \(other.learningRate)")
        observeNear("the learning rate \(extra) epochs past the end of a \(total)-epoch schedule (minimum \(minimum))", other.learningRate, expected: Double(minimum), 1e-6)
    }
}
