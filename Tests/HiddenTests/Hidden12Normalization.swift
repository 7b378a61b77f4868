import Foundation
import Kindling
import Testing

// Hidden tests of lesson 12 (normalization). The grader maps each test to its
// exercise by the suite name `Exercise_12_N`; each suite uses only its own
// exercise and earlier ones (12.1's tests normalize in training mode without
// running statistics, 12.3's set the running statistics by hand, only 12.4's
// and later call backward()). They probe what the visible tests do not:
// [N, C] and [N, C, H, W] of drawn sizes, channels-last (permuted) inputs,
// large means, several ε and momenta, strided running buffers, several
// training steps then evaluation on a batch of one, layers without γ and β,
// the gradients of γ and β, layer norm of rank-1 and rank-3 inputs, and the
// activation statistics of a deep model with batch norm.
//
// Every test observes the values the learner's code produced (see
// Support/Observe.swift), drawn from the grading seed.

// MARK: - Helpers: the arithmetic by hand, in Double

/// `count` numbers `scale`·N(0, 1) + `shift` from `g`.
private func drawn(_ count: Int, _ g: inout SeededGenerator, scale: Float = 1, shift: Float = 0) -> [Float] {
    (0..<count).map { _ in g.nextNormal() * scale + shift }
}

/// A tensor of `shape` drawn from `g`.
private func drawnTensor(_ shape: [Int], _ g: inout SeededGenerator, scale: Float = 1, shift: Float = 0,
                         requiresGrad: Bool = false) -> Tensor {
    Tensor(drawn(shape.reduce(1, *), &g, scale: scale, shift: shift), shape: shape, requiresGrad: requiresGrad)
}

/// The positions of channel c's group in a row-major [N, C, …] tensor.
private func groupPositions(_ shape: [Int], _ c: Int) -> [Int] {
    let inner = shape.dropFirst(2).reduce(1, *)
    return (0..<shape[0]).flatMap { n in (0..<inner).map { (n * shape[1] + c) * inner + $0 } }
}

/// Mean and biased (or unbiased) variance in Double.
private func moments(_ v: [Double], unbiased: Bool = false) -> (mean: Double, variance: Double) {
    let m = v.reduce(0, +) / Double(v.count)
    return (m, v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - (unbiased ? 1 : 0)))
}

/// Normalizes each group (given as lists of positions) of `x` by its own mean and biased variance.
private func normalizeGroups(_ x: [Float], _ groups: [[Int]], eps: Double) -> [Double] {
    var out = [Double](repeating: 0, count: x.count)
    for group in groups {
        let (m, v) = moments(group.map { Double(x[$0]) })
        for p in group { out[p] = (Double(x[p]) - m) / (v + eps).squareRoot() }
    }
    return out
}

/// Batch norm in training mode by hand: x̂ per channel of [N, C, …].
private func batchNormByHand(_ x: [Float], _ shape: [Int], eps: Double = 1e-5) -> [Double] {
    normalizeGroups(x, (0..<shape[1]).map { groupPositions(shape, $0) }, eps: eps)
}

/// The fused backward by hand over `groups`: dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/√(σ² + ε).
private func backwardByHand(x: [Float], dxHat: [Double], groups: [[Int]], eps: Double) -> [Double] {
    var out = [Double](repeating: 0, count: x.count)
    for group in groups {
        let (m, v) = moments(group.map { Double(x[$0]) })
        let invStd = 1 / (v + eps).squareRoot()
        let h = group.map { (Double(x[$0]) - m) * invStd }, d = group.map { dxHat[$0] }
        let meanD = d.reduce(0, +) / Double(d.count)
        let meanDH = zip(d, h).reduce(0) { $0 + $1.0 * $1.1 } / Double(d.count)
        for (k, p) in group.enumerated() { out[p] = (d[k] - meanD - h[k] * meanDH) * invStd }
    }
    return out
}

/// Whether `got` is within `atol + rtol·|expected|` of `expected` everywhere.
private func near(_ got: [Float], _ expected: [Double], atol: Double = 1e-4, rtol: Double = 1e-4) -> Bool {
    got.count == expected.count && zip(got, expected).allSatisfy { Swift.abs(Double($0) - $1) <= atol + rtol * Swift.abs($1) }
}

/// The first few values, for messages.
private func head(_ v: [Float]) -> String { "\(Array(v.prefix(6)))\(v.count > 6 ? "…" : "")" }
private func head(_ v: [Double]) -> String { "\(v.prefix(6).map { Float($0) })\(v.count > 6 ? "…" : "")" }

/// The worst place where `got` and `expected` differ, in words.
private func worst(_ got: [Float], _ expected: [Double]) -> String {
    guard got.count == expected.count else { return "\(got.count) values, expected \(expected.count)" }
    guard let i = expected.indices.max(by: { Swift.abs(Double(got[$0]) - expected[$0]) < Swift.abs(Double(got[$1]) - expected[$1]) }) else { return "" }
    return "worst at element \(i): expected \(Float(expected[i])), got \(got[i])"
}

/// A module that records whether a graph was recorded and its mode, and passes x through.
private final class HRecorder: Module {
    var calls: [(recording: Bool, training: Bool)] = []
    override func forward(_ x: Tensor) -> Tensor {
        calls.append((GradMode.isEnabled, isTraining))
        return x
    }
}

/// Multiplies by a constant and adds one.
private final class HAffine: Module {
    let a: Float, b: Float
    init(_ a: Float, _ b: Float) {
        self.a = a
        self.b = b
        super.init()
    }
    override func forward(_ x: Tensor) -> Tensor { x * a + b }
}

// MARK: - 12.1 per-group statistics

@Suite struct Exercise_12_1 {
    @Test func featuresAndImagesOfDrawnSizes() {
        var g = SeededGenerator(seed: graded(12101))
        for rank in [2, 3, 4] {
            var shape = [Int.random(in: 2...9, using: &g), Int.random(in: 1...5, using: &g)]
            for _ in 2..<rank { shape.append(Int.random(in: 1...4, using: &g)) }
            let x = drawnTensor(shape, &g, scale: Float.random(in: 0.1...5, using: &g), shift: Float.random(in: -3...3, using: &g))
            let y = x.batchNorm(runningMean: nil, runningVar: nil, training: true).toArray()
            let expected = batchNormByHand(x.toArray(), shape)
            #expect(near(y, expected),
                    "batch norm of \(shape) in training: each channel c normalized over every x[n, c, …] by its mean and biased variance; \(worst(y, expected))")
            observe("batch norm of a drawn \(shape)", y, shape: shape, atol: 1e-4, rtol: 1e-4)
        }
    }

    @Test func aChannelsLastView() {
        // Images stored [N, H, W, C] and viewed as [N, C, H, W]: the groups follow the view.
        var g = SeededGenerator(seed: graded(12102))
        let (n, h, w, c) = (Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g))
        let stored = drawnTensor([n, h, w, c], &g, scale: 2, shift: 1)
        let view = stored.permuted([0, 3, 1, 2])
        let y = view.batchNorm(runningMean: nil, runningVar: nil, training: true)
        let expected = batchNormByHand(view.contiguous().toArray(), [n, c, h, w])
        #expect(y.shape == [n, c, h, w] && near(y.toArray(), expected),
                "a channels-last view [\(n), \(c), \(h), \(w)] (strides \(view.strides)): the statistics follow the view, not the storage; \(worst(y.toArray(), expected))")
        observe("batch norm of a channels-last view \([n, c, h, w])", y)
    }

    @Test func largeMeansLoseNoDigits() {
        var g = SeededGenerator(seed: graded(12103))
        let n = 4096
        let shifts: [Float] = [10_000 + Float.random(in: 0...1000, using: &g), -5_000, Float.random(in: -1...1, using: &g)]
        var values = [Float](repeating: 0, count: n * 3)
        for i in 0..<n { for c in 0..<3 { values[i * 3 + c] = shifts[c] + g.nextNormal() * (c == 1 ? 0.5 : 1) } }
        let y = Tensor(values, shape: [n, 3]).batchNorm(runningMean: nil, runningVar: nil, training: true).toArray()
        let expected = batchNormByHand(values, [n, 3])
        #expect(near(y, expected, atol: 1e-3, rtol: 1e-3),
                "channels with means \(shifts) and spreads 1, 0.5, 1: \(worst(y, expected)) — sum in Double, and square x − μ in a second pass (E[x²] − E[x]² loses every digit of the spread)")
        observe("batch norm of channels with large means (the first 300 values)", Array(y.prefix(300)), atol: 1e-3, rtol: 1e-3)
    }

    @Test func epsilonsAndConstantChannels() {
        var g = SeededGenerator(seed: graded(12104))
        for eps: Float in [1e-5, 0.01, 1, 10] {
            let scale = Float.random(in: 0.01...2, using: &g)
            var values = drawn(6 * 3, &g, scale: scale)
            for i in 0..<6 { values[i * 3 + 2] = 3.5 }  // channel 2 is constant
            let y = Tensor(values, shape: [6, 3]).batchNorm(runningMean: nil, runningVar: nil, training: true, eps: eps).toArray()
            let expected = batchNormByHand(values, [6, 3], eps: Double(eps))
            #expect(near(y, expected, atol: 1e-4, rtol: 1e-3),
                    "eps \(eps), spread \(scale), channel 2 constant: \(worst(y, expected)) — 1/√(σ² + ε), with ε inside the square root")
            observe("batch norm with eps \(eps) of values of spread \(scale) and a constant channel", y, atol: 1e-4, rtol: 1e-3)
        }
    }

    @Test func twoExamplesPerChannel() {
        // With n = 2 the values are ±1/√(1 + ε/σ²): nearly ±1.
        var g = SeededGenerator(seed: graded(12105))
        let x = drawnTensor([2, 5], &g, scale: 3)
        let y = x.batchNorm(runningMean: nil, runningVar: nil, training: true).toArray()
        let expected = batchNormByHand(x.toArray(), [2, 5])
        #expect(near(y, expected), "two examples per channel: \(worst(y, expected))")
        observe("batch norm of [2, 5]", y, atol: 1e-4, rtol: 1e-4)
    }
}

// MARK: - 12.2 running statistics

@Suite struct Exercise_12_2 {
    @Test func momentaFromNoneToAll() {
        var g = SeededGenerator(seed: graded(12201))
        let shape = [Int.random(in: 2...6, using: &g), 3, Int.random(in: 1...3, using: &g)]
        let x = drawnTensor(shape, &g, scale: 2, shift: 1)
        for momentum: Float in [0, 0.1, Float.random(in: 0.2...0.8, using: &g), 1] {
            let start = drawn(3, &g), startVar = drawn(3, &g).map { Swift.abs($0) + 0.5 }
            let runningMean = Tensor(start), runningVar = Tensor(startVar)
            _ = x.batchNorm(runningMean: runningMean, runningVar: runningVar, training: true, momentum: momentum)
            let stats = (0..<3).map { moments(groupPositions(shape, $0).map { Double(x.toArray()[$0]) }, unbiased: true) }
            let m = Double(momentum)
            let expectedMean = (0..<3).map { (1 - m) * Double(start[$0]) + m * stats[$0].mean }
            let expectedVar = (0..<3).map { (1 - m) * Double(startVar[$0]) + m * stats[$0].variance }
            #expect(near(runningMean.toArray(), expectedMean) && near(runningVar.toArray(), expectedVar, rtol: 1e-3),
                    "momentum \(momentum) on \(shape): running_mean expected \(head(expectedMean)), got \(head(runningMean.toArray())); running_var expected \(head(expectedVar)), got \(head(runningVar.toArray())) — r ← (1 − momentum)·r + momentum·batch, with the unbiased variance (n/(n−1), n = N·L)")
            observe("running_mean after one batch of \(shape) with momentum \(momentum)", runningMean, atol: 1e-4, rtol: 1e-4)
            observe("running_var after one batch of \(shape) with momentum \(momentum)", runningVar, atol: 1e-4, rtol: 1e-3)
        }
    }

    @Test func severalStepsOfALayer() {
        var g = SeededGenerator(seed: graded(12202))
        let c = Int.random(in: 2...4, using: &g)
        let bn = BatchNorm2d(c, momentum: Float.random(in: 0.05...0.5, using: &g))
        var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 1, count: c)
        let m = Double(bn.momentum)
        for _ in 0..<5 {
            let shape = [Int.random(in: 1...4, using: &g), c, Int.random(in: 1...3, using: &g), 2]
            let x = drawnTensor(shape, &g, scale: 1.5, shift: 2)
            _ = noGrad { bn(x) }
            for k in 0..<c {
                let s = moments(groupPositions(shape, k).map { Double(x.toArray()[$0]) }, unbiased: true)
                mean[k] = (1 - m) * mean[k] + m * s.mean
                variance[k] = (1 - m) * variance[k] + m * s.variance
            }
        }
        let gotMean = bn.runningMean.tensor.toArray(), gotVar = bn.runningVar.tensor.toArray()
        #expect(near(gotMean, mean) && near(gotVar, variance, rtol: 1e-3),
                "BatchNorm2d(\(c)) after 5 batches: running_mean expected \(head(mean)), got \(head(gotMean)); running_var expected \(head(variance)), got \(head(gotVar))")
        #expect(bn.numBatchesTracked.tensor.item() == 5, "5 training batches tracked")
        observe("running_mean of BatchNorm2d(\(c)) after 5 batches", gotMean, atol: 1e-4, rtol: 1e-4)
        observe("running_var of BatchNorm2d(\(c)) after 5 batches", gotVar, atol: 1e-4, rtol: 1e-3)
    }

    @Test func stridedRunningBuffers() {
        // The running statistics may be views: every other element of a longer tensor.
        var g = SeededGenerator(seed: graded(12203))
        let backingMean = Tensor(drawn(6, &g)), backingVar = Tensor(drawn(6, &g).map { Swift.abs($0) + 1 })
        let before = (backingMean.toArray(), backingVar.toArray())
        let runningMean = backingMean.sliced(from: 0, step: 2), runningVar = backingVar.sliced(from: 1, step: 2)
        let x = drawnTensor([5, 3], &g, shift: 1)
        _ = x.batchNorm(runningMean: runningMean, runningVar: runningVar, training: true, momentum: 0.25)
        let values = x.toArray()
        var expectedMean = before.0.map(Double.init), expectedVar = before.1.map(Double.init)
        for k in 0..<3 {
            let s = moments(groupPositions([5, 3], k).map { Double(values[$0]) }, unbiased: true)
            expectedMean[2 * k] = 0.75 * expectedMean[2 * k] + 0.25 * s.mean
            expectedVar[2 * k + 1] = 0.75 * expectedVar[2 * k + 1] + 0.25 * s.variance
        }
        #expect(near(backingMean.toArray(), expectedMean) && near(backingVar.toArray(), expectedVar, rtol: 1e-3),
                "running statistics that are strided views: only their own elements change, in place; backing running_mean expected \(head(expectedMean)), got \(head(backingMean.toArray())) — follow each tensor's strides and offset")
        observe("the tensor behind a strided running_mean", backingMean, atol: 1e-4, rtol: 1e-4)
        observe("the tensor behind a strided running_var", backingVar, atol: 1e-4, rtol: 1e-3)
    }
}

// MARK: - 12.3 evaluation

@Suite struct Exercise_12_3 {
    @Test func aBatchOfOneByTheRunningStatistics() {
        var g = SeededGenerator(seed: graded(12301))
        let c = Int.random(in: 2...6, using: &g)
        let bn = BatchNorm1d(c, eps: [1e-5, 1e-3, 0.1].randomElement(using: &g)!)
        let mean = drawn(c, &g, scale: 2), variance = drawn(c, &g).map { $0 * $0 + 0.01 }
        let weight = drawn(c, &g, shift: 1), bias = drawn(c, &g, scale: 0.5)
        noGrad {
            bn.runningMean.tensor.assign(Tensor(mean))
            bn.runningVar.tensor.assign(Tensor(variance))
            bn.weight!.assign(Tensor(weight))
            bn.bias!.assign(Tensor(bias))
        }
        bn.eval()
        let x = drawnTensor([1, c], &g, scale: 2)
        let y = bn(x).toArray()
        let xs = x.toArray()
        let expected: [Double] = (0..<c).map { (k: Int) -> Double in
            let denominator: Double = (Double(variance[k]) + Double(bn.eps)).squareRoot()
            let centered: Double = Double(xs[k]) - Double(mean[k])
            return Double(weight[k]) * centered / denominator + Double(bias[k])
        }
        #expect(near(y, expected, rtol: 1e-3),
                "BatchNorm1d(\(c)) in evaluation on a batch of one: γ·(x − running_mean)/√(running_var + ε) + β; \(worst(y, expected))")
        #expect(bn.runningMean.tensor.toArray() == mean && bn.numBatchesTracked.tensor.item() == 0,
                "evaluation changes no running statistic")
        observe("BatchNorm1d(\(c)) in evaluation on a batch of one", y, atol: 1e-4, rtol: 1e-3)
        observe("running_mean after evaluation", bn.runningMean.tensor)
    }

    @Test func channelsLastImagesWithoutAffine() {
        var g = SeededGenerator(seed: graded(12302))
        let (n, c, h, w) = (Int.random(in: 1...3, using: &g), Int.random(in: 2...4, using: &g), 3, 2)
        let bn = BatchNorm2d(c, affine: false)
        let mean = drawn(c, &g), variance = drawn(c, &g).map { $0 * $0 + 0.1 }
        noGrad {
            bn.runningMean.tensor.assign(Tensor(mean))
            bn.runningVar.tensor.assign(Tensor(variance))
        }
        bn.eval()
        let x = drawnTensor([n, h, w, c], &g, scale: 2).permuted([0, 3, 1, 2])
        let y = bn(x)
        let xs = x.contiguous().toArray()
        var expected = [Double](repeating: 0, count: xs.count)
        for k in 0..<c {
            for p in groupPositions([n, c, h, w], k) {
                expected[p] = (Double(xs[p]) - Double(mean[k])) / (Double(variance[k]) + 1e-5).squareRoot()
            }
        }
        #expect(y.shape == [n, c, h, w] && near(y.toArray(), expected, rtol: 1e-3),
                "BatchNorm2d(\(c), affine: false) in evaluation on a channels-last view of [\(n), \(c), \(h), \(w)]: \(worst(y.toArray(), expected))")
        observe("BatchNorm2d without γ and β, evaluation, channels-last input", y, atol: 1e-4, rtol: 1e-3)
    }

    @Test func gradientsInEvaluation() {
        var g = SeededGenerator(seed: graded(12303))
        let c = 3
        let mean = drawn(c, &g), variance = drawn(c, &g).map { $0 * $0 + 0.2 }
        let x = drawnTensor([4, c], &g, requiresGrad: true)
        let weight = drawnTensor([c], &g, shift: 1, requiresGrad: true), bias = drawnTensor([c], &g, requiresGrad: true)
        let upstream = drawnTensor([4, c], &g)
        let y = x.batchNorm(runningMean: Tensor(mean), runningVar: Tensor(variance), weight: weight, bias: bias, training: false)
        (y * upstream).sum().backward()
        let inv = (0..<c).map { 1 / (Double(variance[$0]) + 1e-5).squareRoot() }
        let (xs, us, ws) = (x.toArray(), upstream.toArray(), weight.toArray())
        let dx = (0..<12).map { Double(us[$0]) * Double(ws[$0 % c]) * inv[$0 % c] }
        var dw = [Double](repeating: 0, count: c), db = [Double](repeating: 0, count: c)
        for row in 0..<4 {
            for k in 0..<c {
                let u = Double(us[row * c + k])
                let centered: Double = Double(xs[row * c + k]) - Double(mean[k])
                dw[k] += u * centered * inv[k]
                db[k] += u
            }
        }
        #expect(near(x.grad?.toArray() ?? [], dx, rtol: 1e-3), "x.grad in evaluation: γ·dy/√(running_var + ε); \(worst(x.grad?.toArray() ?? [], dx))")
        #expect(near(weight.grad?.toArray() ?? [], dw, rtol: 1e-3), "γ.grad in evaluation: Σ dy·x̂; \(worst(weight.grad?.toArray() ?? [], dw))")
        #expect(near(bias.grad?.toArray() ?? [], db, rtol: 1e-3), "β.grad in evaluation: Σ dy")
        observe("x.grad through batch norm in evaluation", x.grad, atol: 1e-4, rtol: 1e-3)
        observe("γ.grad through batch norm in evaluation", weight.grad, atol: 1e-4, rtol: 1e-3)
        observe("β.grad through batch norm in evaluation", bias.grad, atol: 1e-4, rtol: 1e-3)
    }

    @Test func theSameAnswerWhateverTheBatch() {
        var g = SeededGenerator(seed: graded(12304))
        let bn = BatchNorm1d(4)
        noGrad {
            bn.runningMean.tensor.assign(Tensor(drawn(4, &g)))
            bn.runningVar.tensor.assign(Tensor(drawn(4, &g).map { $0 * $0 + 0.5 }))
        }
        bn.eval()
        let batch = drawnTensor([6, 4], &g, scale: 3)
        let together = bn(batch).toArray()
        var separately: [Float] = []
        for i in 0..<6 { separately += bn(batch.sliced(axis: 0, from: i, to: i + 1)).toArray() }
        #expect(together == separately, "in evaluation each example is transformed on its own: a batch of 6 and six batches of one must agree")
        observe("six examples in evaluation, together", together, atol: 1e-5, rtol: 1e-4)
        observe("the same six, one at a time", separately, atol: 1e-5, rtol: 1e-4)
    }
}

// MARK: - 12.4 the fused backward rule

@Suite struct Exercise_12_4 {
    @Test func imagesAgainstTheRule() {
        var g = SeededGenerator(seed: graded(12401))
        let shape = [Int.random(in: 2...4, using: &g), Int.random(in: 1...4, using: &g), Int.random(in: 1...3, using: &g), Int.random(in: 1...3, using: &g)]
        let x = drawnTensor(shape, &g, scale: 2, shift: -1, requiresGrad: true)
        let upstream = drawnTensor(shape, &g)
        (x.batchNorm(runningMean: nil, runningVar: nil, training: true) * upstream).sum().backward()
        let expected = backwardByHand(x: x.toArray(), dxHat: upstream.toArray().map(Double.init),
                                      groups: (0..<shape[1]).map { groupPositions(shape, $0) }, eps: 1e-5)
        let got = x.grad?.toArray() ?? []
        #expect(near(got, expected, atol: 1e-3, rtol: 1e-3),
                "x.grad of batch norm of \(shape): dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/√(σ² + ε), means over each channel's N·H·W values; \(worst(got, expected))")
        observe("x.grad through batch norm of \(shape)", x.grad, atol: 1e-3, rtol: 1e-3)
    }

    @Test func gammaAndBetaToo() {
        var g = SeededGenerator(seed: graded(12402))
        let shape = [Int.random(in: 3...6, using: &g), 3]
        let x = drawnTensor(shape, &g, scale: 2, requiresGrad: true)
        let weight = drawnTensor([3], &g, shift: 1, requiresGrad: true), bias = drawnTensor([3], &g, requiresGrad: true)
        let upstream = drawnTensor(shape, &g)
        (x.batchNorm(runningMean: nil, runningVar: nil, weight: weight, bias: bias, training: true) * upstream).sum().backward()
        let us = upstream.toArray(), ws = weight.toArray()
        let dxHat = us.enumerated().map { Double($1) * Double(ws[$0 % 3]) }
        let groups = (0..<3).map { groupPositions(shape, $0) }
        let expected = backwardByHand(x: x.toArray(), dxHat: dxHat, groups: groups, eps: 1e-5)
        let xHat = batchNormByHand(x.toArray(), shape)
        let dw = groups.map { $0.reduce(0.0) { $0 + Double(us[$1]) * xHat[$1] } }
        #expect(near(x.grad?.toArray() ?? [], expected, atol: 1e-3, rtol: 1e-3),
                "x.grad with γ \(ws): the rule with dx̂ = γ·dy; \(worst(x.grad?.toArray() ?? [], expected))")
        #expect(near(weight.grad?.toArray() ?? [], dw, atol: 1e-3, rtol: 1e-3), "γ.grad = Σ dy·x̂ per channel")
        observe("x.grad through batch norm with γ and β", x.grad, atol: 1e-3, rtol: 1e-3)
        observe("γ.grad", weight.grad, atol: 1e-3, rtol: 1e-3)
        observe("β.grad", bias.grad, atol: 1e-4, rtol: 1e-4)
    }

    @Test func stridedInputAndGradient() {
        // A channels-last input, and an upstream gradient that arrives as a transposed view.
        var g = SeededGenerator(seed: graded(12403))
        let (n, c, hw) = (Int.random(in: 2...4, using: &g), Int.random(in: 2...3, using: &g), 3)
        let stored = drawnTensor([n, hw, c], &g, scale: 1.5, requiresGrad: true)
        let x = stored.permuted([0, 2, 1])
        let upstream = drawnTensor([n, hw, c], &g).permuted([0, 2, 1])
        (x.batchNorm(runningMean: nil, runningVar: nil, training: true) * upstream).sum().backward()
        let expected = backwardByHand(x: x.contiguous().toArray(), dxHat: upstream.contiguous().toArray().map(Double.init),
                                      groups: (0..<c).map { groupPositions([n, c, hw], $0) }, eps: 1e-5)
        // The gradient arrives in the stored layout [n, hw, c]: compare it viewed as [n, c, hw].
        let got = stored.grad.map { $0.permuted([0, 2, 1]).contiguous().toArray() } ?? []
        #expect(near(got, expected, atol: 1e-3, rtol: 1e-3), "x.grad for a channels-last view [\(n), \(c), \(hw)]: \(worst(got, expected))")
        observe("the gradient of a channels-last input, viewed as [N, C, L]", got, atol: 1e-3, rtol: 1e-3)
    }

    @Test func largeMeansAndFiniteDifferences() {
        var g = SeededGenerator(seed: graded(12404))
        let x = drawnTensor([6, 2], &g, scale: 0.5, shift: 1000, requiresGrad: true)
        let upstream = drawnTensor([6, 2], &g)
        (x.batchNorm(runningMean: nil, runningVar: nil, training: true) * upstream).sum().backward()
        let expected = backwardByHand(x: x.toArray(), dxHat: upstream.toArray().map(Double.init),
                                      groups: (0..<2).map { groupPositions([6, 2], $0) }, eps: 1e-5)
        #expect(near(x.grad?.toArray() ?? [], expected, atol: 1e-2, rtol: 1e-2),
                "x.grad for values around 1000: \(worst(x.grad?.toArray() ?? [], expected))")
        observe("x.grad through batch norm of values around 1000", x.grad, atol: 1e-2, rtol: 1e-2)

        let small = drawnTensor([3, 2, 2], &g, scale: 2, requiresGrad: true)
        let report = gradcheck([small], epsilon: 1e-2, atol: 2e-2, rtol: 2e-2) {
            $0[0].batchNorm(runningMean: nil, runningVar: nil, training: true)
        }
        #expect(report.passed, "batch norm of [3, 2, 2] against finite differences:\n\(report)")
        observe("whether batch norm of [3, 2, 2] passes gradcheck", report.passed)
        observe("its x.grad", small.grad, atol: 1e-3, rtol: 1e-3)
    }
}

// MARK: - 12.5 layer norm

@Suite struct Exercise_12_5 {
    @Test func sequencesOverTheLastAxisOrTheLastTwo() {
        var g = SeededGenerator(seed: graded(12501))
        let (b, t, d) = (Int.random(in: 1...3, using: &g), Int.random(in: 2...5, using: &g), Int.random(in: 2...6, using: &g))
        let x = drawnTensor([b, t, d], &g, scale: 2, shift: 3)
        let xs = x.toArray()
        let rows = x.layerNorm([d]).toArray()
        let expectedRows = normalizeGroups(xs, (0..<(b * t)).map { r in Array((r * d)..<(r * d + d)) }, eps: 1e-5)
        #expect(near(rows, expectedRows), "layerNorm([\(d)]) of [\(b), \(t), \(d)]: \(b * t) groups of \(d); \(worst(rows, expectedRows))")
        let blocks = x.layerNorm([t, d]).toArray()
        let expectedBlocks = normalizeGroups(xs, (0..<b).map { r in Array((r * t * d)..<((r + 1) * t * d)) }, eps: 1e-5)
        #expect(near(blocks, expectedBlocks), "layerNorm([\(t), \(d)]) of [\(b), \(t), \(d)]: \(b) groups of \(t * d); \(worst(blocks, expectedBlocks))")
        observe("layerNorm([\(d)]) of [\(b), \(t), \(d)]", rows, atol: 1e-4, rtol: 1e-4)
        observe("layerNorm([\(t), \(d)]) of [\(b), \(t), \(d)]", blocks, atol: 1e-4, rtol: 1e-4)
    }

    @Test func aSingleVectorAndATransposedView() {
        var g = SeededGenerator(seed: graded(12502))
        let d = Int.random(in: 3...8, using: &g)
        let v = drawnTensor([d], &g, scale: 3)
        let y = v.layerNorm([d]).toArray()
        let expected = normalizeGroups(v.toArray(), [Array(0..<d)], eps: 1e-5)
        #expect(near(y, expected), "layerNorm([\(d)]) of a single vector [\(d)]: one group; \(worst(y, expected))")
        let t = drawnTensor([d, 3], &g).transposed()
        let viaView = t.layerNorm([d]).toArray()
        let expectedView = normalizeGroups(t.contiguous().toArray(), (0..<3).map { r in Array((r * d)..<(r * d + d)) }, eps: 1e-5)
        #expect(near(viaView, expectedView), "layerNorm of a transposed view [3, \(d)]: the rows of the view; \(worst(viaView, expectedView))")
        observe("layerNorm of a vector of \(d)", y, atol: 1e-4, rtol: 1e-4)
        observe("layerNorm of a transposed view [3, \(d)]", viaView, atol: 1e-4, rtol: 1e-4)
    }

    @Test func affineGradientsAndEpsilon() {
        var g = SeededGenerator(seed: graded(12503))
        let (rows, d) = (Int.random(in: 2...5, using: &g), Int.random(in: 2...5, using: &g))
        let eps: Float = [1e-5, 0.1, 1].randomElement(using: &g)!
        let x = drawnTensor([rows, d], &g, scale: 0.5, shift: 500, requiresGrad: true)
        let weight = drawnTensor([d], &g, shift: 1, requiresGrad: true), bias = drawnTensor([d], &g, requiresGrad: true)
        let upstream = drawnTensor([rows, d], &g)
        let y = x.layerNorm([d], weight: weight, bias: bias, eps: eps)
        (y * upstream).sum().backward()
        let groups = (0..<rows).map { r in Array((r * d)..<(r * d + d)) }
        let xHat = normalizeGroups(x.toArray(), groups, eps: Double(eps))
        let (ws, bs, us) = (weight.toArray(), bias.toArray(), upstream.toArray())
        let expectedY = xHat.enumerated().map { $1 * Double(ws[$0 % d]) + Double(bs[$0 % d]) }
        let dxHat = us.enumerated().map { Double($1) * Double(ws[$0 % d]) }
        let expectedDx = backwardByHand(x: x.toArray(), dxHat: dxHat, groups: groups, eps: Double(eps))
        let dw = (0..<d).map { j in (0..<rows).reduce(0.0) { $0 + Double(us[$1 * d + j]) * xHat[$1 * d + j] } }
        #expect(near(y.toArray(), expectedY, atol: 1e-3, rtol: 1e-3), "layerNorm with γ, β, eps \(eps), rows around 500: \(worst(y.toArray(), expectedY))")
        #expect(near(x.grad?.toArray() ?? [], expectedDx, atol: 1e-2, rtol: 1e-2), "x.grad of layerNorm: the fused rule per row; \(worst(x.grad?.toArray() ?? [], expectedDx))")
        #expect(near(weight.grad?.toArray() ?? [], dw, atol: 1e-3, rtol: 1e-3), "γ.grad = Σ over rows of dy·x̂")
        observe("layerNorm with γ and β, eps \(eps)", y, atol: 1e-3, rtol: 1e-3)
        observe("x.grad of layerNorm", x.grad, atol: 1e-2, rtol: 1e-2)
        observe("γ.grad of layerNorm", weight.grad, atol: 1e-3, rtol: 1e-3)
        observe("β.grad of layerNorm", bias.grad, atol: 1e-3, rtol: 1e-3)
    }

    @Test func theLayerWithoutAffine() {
        var g = SeededGenerator(seed: graded(12504))
        let d = Int.random(in: 2...6, using: &g)
        let ln = LayerNorm([d], elementwiseAffine: false)
        #expect(ln.parameters().isEmpty, "LayerNorm without elementwiseAffine has no parameters")
        let x = drawnTensor([4, d], &g, scale: 2, shift: -2)
        let y = ln(x).toArray()
        let expected = normalizeGroups(x.toArray(), (0..<4).map { r in Array((r * d)..<(r * d + d)) }, eps: 1e-5)
        #expect(near(y, expected), "LayerNorm([\(d)], elementwiseAffine: false): \(worst(y, expected))")
        observe("LayerNorm([\(d)]) without γ and β", y, atol: 1e-4, rtol: 1e-4)
    }
}

// MARK: - 12.6 activation statistics

@Suite struct Exercise_12_6 {
    @Test func aDeepModelWithBatchNorm() {
        var g = SeededGenerator(seed: graded(12601))
        let width = Int.random(in: 4...8, using: &g)
        var layers: [Module] = []
        var linears: [Linear] = []
        for _ in 0..<3 {
            let linear = Linear(width, width)
            linears.append(linear)
            layers += [linear, BatchNorm1d(width), Tanh()]
        }
        let model = Sequential(layers)
        noGrad {
            for linear in linears {
                linear.weight.assign(drawnTensor([width, width], &g, scale: Float.random(in: 0.2...3, using: &g)))
                linear.bias!.assign(drawnTensor([width], &g))
            }
        }
        let x = drawnTensor([16, width], &g, scale: 2)
        let stats = activationStatistics(of: model, on: x)
        // The same forward pass by hand, layer by layer (batch norm in training mode on fresh layers).
        let reference = Sequential(layers.map { layer -> Module in
            if let bn = layer as? BatchNorm1d { return BatchNorm1d(bn.runningMean.tensor.shape[0]) }
            return layer
        })
        var h = x
        var expected: [(String, [Int], Double, Double)] = []
        noGrad {
            for layer in reference.layers {
                h = layer(h)
                let (m, v) = moments(h.toArray().map(Double.init))
                expected.append((String(describing: type(of: layer)), h.shape, m, v.squareRoot()))
            }
        }
        #expect(stats.count == expected.count && zip(stats, expected).allSatisfy { $0.layer == $1.0 && $0.shape == $1.1 },
                "one entry per layer with its type name and output shape: got \(stats.map { "\($0.index) \($0.layer) \($0.shape)" })")
        for (s, e) in zip(stats, expected) {
            #expect(Swift.abs(s.mean - e.2) < 1e-4 + 1e-4 * Swift.abs(e.2) && Swift.abs(s.std - e.3) < 1e-4 + 1e-4 * e.3,
                    "layer \(s.index) (\(s.layer)): expected mean \(e.2), std \(e.3); got mean \(s.mean), std \(s.std)")
        }
        observe("the layers named", stats.map { "\($0.index) \($0.layer)" }.joined(separator: ", "))
        observe("their output shapes", stats.flatMap(\.shape))
        observe("their means", stats.map(\.mean), atol: 1e-4, rtol: 1e-4)
        observe("their standard deviations", stats.map(\.std), atol: 1e-4, rtol: 1e-4)
    }

    @Test func theModelsModeAndNoGraph() {
        var g = SeededGenerator(seed: graded(12602))
        let recorder = HRecorder()
        let a = Float.random(in: -3...3, using: &g), b = Float.random(in: -2...2, using: &g)
        let model = Sequential(HAffine(a, b), recorder, HAffine(2, 0))
        model.eval()
        let x = drawnTensor([5, 3], &g, requiresGrad: true)
        let stats = activationStatistics(of: model, on: x)
        #expect(recorder.calls.count == 1 && !recorder.calls[0].recording && !recorder.calls[0].training,
                "each layer runs once, without a graph (noGrad), in the model's own mode (eval here): got \(recorder.calls)")
        #expect(!model.isTraining, "the model stays in the mode it was in")
        let ys = x.toArray().map { Double($0) * Double(a) + Double(b) }
        let (m, v) = moments(ys)
        #expect(stats.count == 3 && Swift.abs(stats[0].mean - m) < 1e-5 && Swift.abs(stats[2].std - 2 * v.squareRoot()) < 1e-4,
                "means and stds of ax + b then 2(ax + b): expected \(m), \(2 * v.squareRoot()), got \(stats.map { ($0.mean, $0.std) })")
        observe("the number of calls of the middle layer", recorder.calls.count)
        observe("whether it recorded a graph", recorder.calls.first?.recording ?? true)
        observe("the means", stats.map(\.mean), atol: 1e-5, rtol: 1e-5)
        observe("the standard deviations", stats.map(\.std), atol: 1e-5, rtol: 1e-5)
    }

    @Test func emptyNestedAndLargeMeans() {
        var g = SeededGenerator(seed: graded(12603))
        #expect(activationStatistics(of: Sequential(), on: Tensor.ones([2, 2])).isEmpty, "a model without layers: no statistics")
        let shift = Float.random(in: 5_000...20_000, using: &g)
        let x = drawnTensor([200, 50], &g, shift: shift)
        let stats = activationStatistics(of: Sequential(Sequential(HAffine(1, 0), HAffine(1, 0)), HAffine(-1, 0)), on: x)
        let (m, v) = moments(x.toArray().map(Double.init))
        #expect(stats.map(\.layer) == ["Sequential", "HAffine"], "a nested Sequential is one layer: got \(stats.map(\.layer))")
        #expect(stats.count == 2 && Swift.abs(stats[0].std - v.squareRoot()) < 1e-3 * v.squareRoot() && Swift.abs(stats[1].mean + m) < 1e-3,
                "10,000 values around \(shift) with spread 1: mean \(m), std \(v.squareRoot()); got \(stats.map { ($0.mean, $0.std) }) — sum in Double, and square x − mean in a second pass")
        observe("the layers of a nested model", stats.map(\.layer).joined(separator: ", "))
        observe("the means of values around \(shift)", stats.map(\.mean), atol: 1e-3, rtol: 1e-6)
        observe("the standard deviations of values around \(shift)", stats.map(\.std), atol: 1e-4, rtol: 1e-3)
    }
}
