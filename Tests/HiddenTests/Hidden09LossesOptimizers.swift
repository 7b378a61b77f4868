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

// MARK: - Helpers

/// Random numbers in [−scale, scale), repeatable.
private func randomValues(_ count: Int, scale: Float = 1, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in (2 * g.nextUnitFloat() - 1) * scale }
}

/// |a − b| ≤ tolerance · max(1, |b|).
private func near(_ a: Float, _ b: Double, _ tolerance: Double = 1e-5) -> Bool {
    Swift.abs(Double(a) - b) <= tolerance * Swift.max(1, Swift.abs(b))
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
        let x = Tensor(Self.x, shape: [4, 3]), y = Tensor(Self.y, shape: [4, 2])
        let w = Tensor(Self.w, shape: [3, 2], requiresGrad: true), b = Tensor(Self.b, requiresGrad: true)
        let optimizer = make([w, b])
        for step in 1...5 {
            optimizer.zeroGrad()
            let z = frozen.contains(step) ? x.matmul(w) : x.matmul(w) + b
            mseLoss(z.tanh(), y).backward()
            optimizer.step()
        }
        return (w, b)
    }
}

// MARK: - 9.1 mseLoss

@Suite struct Exercise_9_1 {
    @Test func transposedAndSlicedInputs() {
        var g = SeededGenerator(seed: 91)
        let a = Tensor(randomValues(12, &g), shape: [3, 4])
        let input = a.transposed()                                   // [4, 3], not contiguous
        let t = Tensor(randomValues(24, &g), shape: [4, 6])
        let target = t.sliced(axis: 1, from: 0, step: 2)             // [4, 3], every other column
        let loss = mseLoss(input, target)
        let x = input.toArray(), y = target.toArray()
        let expected = zip(x, y).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / 12
        #expect(near(loss.item(), expected), "mseLoss of a transposed input and a sliced target: expected \(expected), got \(loss.item())")
    }

    @Test func gradientReachesBothSides() {
        let input = Tensor([1, -1, 2], requiresGrad: true)
        let target = Tensor([0, 1, 4], requiresGrad: true)
        mseLoss(input, target).backward()
        // diff = [1, −2, −2]; ∂/∂input = 2·diff/3, ∂/∂target = −2·diff/3
        expectGradient(of: "input", input, [2.0 / 3, -4.0 / 3, -4.0 / 3])
        expectGradient(of: "target", target, [-2.0 / 3, 4.0 / 3, 4.0 / 3])
    }

    @Test func aScalarAndARank3Tensor() {
        let s = mseLoss(Tensor(scalar: 3), Tensor(scalar: 1))
        #expect(s.shape == [] && near(s.item(), 4), "one element: (3 − 1)² = 4, got \(s.item()) of shape \(s.shape)")
        var g = SeededGenerator(seed: 92)
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
        var g = SeededGenerator(seed: 93)
        let values = randomValues(12, scale: 3, &g)
        let source = Tensor(values, shape: [3, 4], requiresGrad: true)
        let logProbs = source.transposed()                           // [4, 3]: row i is column i of source
        let targets = [2, 0, 1, 2]
        let loss = nllLoss(logProbs, targets)
        let expected = -targets.enumerated().reduce(0.0) { $0 + Double(values[$1.1 * 4 + $1.0]) } / 4
        #expect(near(loss.item(), expected), "nllLoss of a transposed [4, 3] view: expected \(expected), got \(loss.item()) — read each row's target through the view, not the storage")
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
    }

    @Test func randomBatchAgainstTheDefinition() {
        var g = SeededGenerator(seed: 94)
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
    }

    @Test func veryLargeScores() {
        let (loss, p) = ceRow([500, 1000, 0], target: 0)
        #expect(loss.isFinite && near(loss, 500), "scores [500, 1000, 0], target 0: expected 500, got \(loss)")
        #expect(near(p[1], 1) && p[0] < 1e-30 && p[2] == 0, "probabilities ≈ [0, 1, 0], got \(p)")
        let (equal, q) = ceRow([30_000, 30_000, 30_000, 30_000], target: 3)
        #expect(near(equal, Foundation.log(4)), "four equal scores: log 4 = 1.3862944, got \(equal)")
        #expect(q.allSatisfy { near($0, 0.25) }, "four equal scores: each probability is 1/4, got \(q)")
    }

    @Test func oneClassAndMinusInfinity() {
        let (single, p) = ceRow([7], target: 0)
        #expect(single == 0 && p == [1], "one class: loss 0, probability 1; got \(single), \(p)")
        let (loss, q) = ceRow([-.infinity, 0, 1], target: 2)
        let expected = softmax([0, 1])
        #expect(near(loss, -Foundation.log(expected[1])), "a −∞ score is a class that cannot happen: expected \(-Foundation.log(expected[1])), got \(loss)")
        #expect(q[0] == 0 && near(q[1], expected[0]) && near(q[2], expected[1]), "expected probabilities [0, \(expected[0]), \(expected[1])], got \(q)")
    }

    @Test func randomRowsAgreeWithFloat64() {
        var g = SeededGenerator(seed: 95)
        for trial in 0..<200 {
            let classes = 1 + Int(g.next(upperBound: UInt64(20)))
            let logits = randomValues(classes, scale: 20, &g)
            let target = Int(g.next(upperBound: UInt64(classes)))
            let (loss, p) = ceRow(logits, target: target)
            let x = logits.map(Double.init)
            let expectedLoss = logSumExp(x) - x[target], expectedP = softmax(x)
            let ok = near(loss, expectedLoss, 1e-4) && zip(p, expectedP).allSatisfy { Swift.abs(Double($0) - $1) <= 1e-6 }
            #expect(ok, "trial \(trial): scores \(logits), target \(target): expected loss \(expectedLoss), probabilities \(expectedP); got \(loss), \(p)")
            if !ok { return }  // one failing case is enough to read
        }
    }

    @Test func crossEntropyOfATransposedBatch() {
        var g = SeededGenerator(seed: 96)
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
    }
}

// MARK: - 9.4 crossEntropyGradient

@Suite struct Exercise_9_4 {
    @Test func randomBatchThroughBackward() {
        var g = SeededGenerator(seed: 97)
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
    }

    @Test func eachRowSumsToZero() {
        let probabilities = Tensor([0.1, 0.2, 0.7, 0.25, 0.25, 0.5, 1, 0, 0], shape: [3, 3])
        let grad = crossEntropyGradient(probabilities: probabilities, targets: [2, 2, 0], scale: 2)
        expectValues("crossEntropyGradient with scale 2", grad, [0.2, 0.4, -0.6, 0.5, 0.5, -1, 0, 0, 0], shape: [3, 3],
                     hints: [.missingOneHot])
    }

    @Test func aViewOfProbabilities() {
        // The probabilities may arrive as a view: here the transpose of a [3, 2] tensor.
        let probabilities = Tensor([0.3, 0.6, 0.7, 0.4, 0, 0], shape: [3, 2]).transposed()  // rows [0.3, 0.7, 0], [0.6, 0.4, 0]
        let grad = crossEntropyGradient(probabilities: probabilities, targets: [0, 1], scale: 1)
        expectValues("crossEntropyGradient of a transposed view", grad, [-0.7, 0.7, 0, 0.6, -0.6, 0], shape: [2, 3])
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
                if !ok { return }
            }
        }
    }

    @Test func smallScoresKeepTheirDigits() {
        // log(1 + e^(−|x|)) near x = 0 needs log1p for full precision of tiny differences.
        let a = binaryCrossEntropyWithLogits(logit: 1e-4, target: 0)
        #expect(near(a, Self.reference(1e-4, 0), 1e-6), "x = 1e−4, y = 0: expected \(Self.reference(1e-4, 0)), got \(a)")
        let b = binaryCrossEntropyWithLogits(logit: 30, target: 1)
        #expect(b > 0 && near(b, Self.reference(30, 1), 1e-3), "x = 30, y = 1: a tiny but positive loss ≈ 9.4e−14, got \(b)")
    }

    @Test func flippingTheScoreAndTheTargetChangesNothing() {
        var g = SeededGenerator(seed: 98)
        for _ in 0..<100 {
            let x = (2 * g.nextUnitFloat() - 1) * 50, y = g.nextUnitFloat()
            let a = binaryCrossEntropyWithLogits(logit: x, target: y), b = binaryCrossEntropyWithLogits(logit: -x, target: 1 - y)
            let ok = Swift.abs(a - b) <= 1e-4 * Swift.max(1, Swift.abs(a))
            #expect(ok, "bce(x, y) = bce(−x, 1 − y): x = \(x), y = \(y) gives \(a) and \(b)")
            if !ok { return }
        }
    }

    @Test func theTensorLossOnViews() {
        let logits = Tensor([-200, 0.5, 3, 200, -1, 0], shape: [3, 2]).transposed()   // [2, 3]
        let targets = Tensor([1, 0, 0.5, 1, 0, 0.2], shape: [2, 3])
        let loss = binaryCrossEntropyWithLogits(logits, targets)
        let x = logits.toArray(), y = targets.toArray()
        let expected = zip(x, y).reduce(0.0) { $0 + Self.reference(Double($1.0), Double($1.1)) } / 6
        #expect(near(loss.item(), expected), "the mean over a transposed [2, 3] view: expected \(expected), got \(loss.item())")
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
            for (k, p) in params.enumerated() where !allClose(p, reference[k].map { Float($0) }) {
                expectValues("parameter \(k) (of 2, sizes \(sizes)) after step \(step) of SGD(momentum: \(momentum), weightDecay: \(weightDecay), nesterov: \(nesterov)) with random gradients",
                             p, reference[k].map { Float($0) }, shape: [sizes[k]], hints: k == 1 ? [.ownStatePerParameter("velocity[index]")] : [])
                return  // one failing step is enough to read
            }
        }
    }

    @Test func plainWithWeightDecay() { Self.check(momentum: 0, weightDecay: 0.1, nesterov: false, seed: 61) }
    @Test func momentumKeepsOneVelocityPerParameter() { Self.check(momentum: 0.9, weightDecay: 0, nesterov: false, seed: 62) }
    @Test func momentumAndWeightDecay() { Self.check(momentum: 0.8, weightDecay: 0.05, nesterov: false, seed: 63) }
    @Test func nesterov() { Self.check(momentum: 0.9, weightDecay: 0.01, nesterov: true, seed: 64) }

    @Test func aNewLearningRateIsUsedAtOnce() {
        let p = Tensor([1, 1], requiresGrad: true)
        let optimizer = SGD(parameters: [p], learningRate: 0.1, momentum: 0.5)
        p.grad = Tensor([1, -1])
        optimizer.step()                      // v = g, θ = [0.9, 1.1]
        optimizer.learningRate = 0.01         // as a scheduler would
        p.grad = Tensor([1, -1])
        optimizer.step()                      // v = 1.5 g, θ = [0.885, 1.115]
        expectValues("the parameter after a learning-rate change", p, [0.885, 1.115], shape: [2])
    }

    @Test func matchesPyTorchNesterov() {
        let (w, b) = GoldenProblem.run { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, nesterov: true) }
        expectValues("w after 5 steps of SGD(lr 0.1, momentum 0.9, nesterov) — recorded with PyTorch", w,
                     [0.08113746, -0.33426392, -0.0037657465, -0.43889695, 0.03268767, 0.35877618], shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 steps of SGD(lr 0.1, momentum 0.9, nesterov) — recorded with PyTorch", b,
                     [0.17632352, -0.13812365], shape: [2], atol: 1e-5)
    }

    @Test func matchesPyTorchMomentumAndWeightDecay() {
        let (w, b) = GoldenProblem.run { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01) }
        expectValues("w after 5 steps of SGD(lr 0.1, momentum 0.9, weight decay 0.01) — recorded with PyTorch", w,
                     [0.059735443, -0.29792172, 0.012519772, -0.43238154, 0.03826307, 0.32941478], shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 steps — recorded with PyTorch", b, [0.17155409, -0.15656993], shape: [2], atol: 1e-5)
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
            for (k, p) in params.enumerated() where !allClose(p, reference[k].map { Float($0) }) {
                expectValues("parameter \(k) (of 2, sizes \(sizes)) after step \(step) of \(name) with random gradients",
                             p, reference[k].map { Float($0) }, shape: [sizes[k]], hints: k == 1 ? [.ownStatePerParameter("m[index], v[index] and updates[index]")] : [])
                return  // one failing step is enough to read
            }
        }
    }

    @Test func randomGradientsAgainstFloat64() { Self.check(weightDecay: 0, decoupled: false, betas: (0.9, 0.999), seed: 71) }
    @Test func otherBetasAndWeightDecay() { Self.check(weightDecay: 0.1, decoupled: false, betas: (0.8, 0.99), seed: 72) }
    @Test func decoupledWeightDecay() { Self.check(weightDecay: 0.1, decoupled: true, betas: (0.9, 0.999), seed: 73) }

    @Test func theFirstStepIgnoresTheGradientsScale() {
        for scale: Float in [1e-3, 1, 1e3] {
            let p = Tensor([0, 0, 0], requiresGrad: true)
            p.grad = Tensor([scale, -scale, 0])
            Adam(parameters: [p], learningRate: 0.01).step()
            expectValues("the first Adam step with gradients [\(scale), \(-scale), 0]", p, [-0.01, 0.01, 0], shape: [3],
                         atol: 2e-5, rtol: 1e-3, hints: [])
        }
    }

    @Test func eachParameterCountsItsOwnSteps() {
        // PyTorch: the bias gets no gradient on step 1, so its bias correction starts a step later.
        let (w, b) = GoldenProblem.run(frozen: [1]) { Adam(parameters: $0, learningRate: 0.01) }
        expectValues("w after 5 Adam steps, the bias frozen on step 1 — recorded with PyTorch", w,
                     [0.022812067, -0.38388956, 0.048706, -0.45707023, 0.07280323, -0.05132667], shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 Adam steps, frozen on step 1 (so it had 4 updates: t counts per parameter) — recorded with PyTorch", b,
                     [0.12450963, -0.019670423], shape: [2], atol: 1e-5)
    }

    @Test func matchesPyTorchAdamW() {
        let (w, b) = GoldenProblem.run { AdamW(parameters: $0, learningRate: 0.01, weightDecay: 0.1) }
        expectValues("w after 5 steps of AdamW(lr 0.01, weight decay 0.1) — recorded with PyTorch", w,
                     [0.06739667, -0.38193223, 0.04781981, -0.45564577, 0.06998906, -0.050913535], shape: [3, 2], atol: 1e-5)
        expectValues("b after 5 steps of AdamW — recorded with PyTorch", b, [0.13433181, -0.029600196], shape: [2], atol: 1e-5)
    }

    @Test func zeroGradientsStayFinite() {
        let p = Tensor([1, -1], requiresGrad: true)
        let optimizer = Adam(parameters: [p], learningRate: 0.1)
        for _ in 0..<3 {
            p.grad = Tensor([0, 0])
            optimizer.step()
        }
        expectValues("a parameter after three steps with zero gradients", p, [1, -1], shape: [2], hints: [])
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
    }

    @Test func oneEpochGoesStraightToTheMinimum() {
        let optimizer = SGD(parameters: [Tensor([0], requiresGrad: true)], learningRate: 0.2)
        let schedule = CosineAnnealingLR(optimizer, totalEpochs: 1, minimum: 0.02)
        schedule.step()
        #expect(near(optimizer.learningRate, 0.02, 1e-6), "T = 1: after one epoch the rate is the minimum 0.02, got \(optimizer.learningRate)")
        for _ in 0..<3 { schedule.step() }
        #expect(near(optimizer.learningRate, 0.02, 1e-6), "past T the rate stays at the minimum (it must not climb back up the cosine), got \(optimizer.learningRate)")
    }
}
