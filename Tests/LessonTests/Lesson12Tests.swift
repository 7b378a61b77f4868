import Foundation
import Testing
import Kindling

// Lesson 12 — normalization and regularization (Lessons/12-normalization.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson12           all of lesson 12
//     swift test --filter Exercise_12_3      one exercise
//
// The suites run in order, one exercise after another. An exercise that is not
// written yet stops the run with "Exercise 12.x is not done yet" — that is the
// next one to do. Each exercise's tests use only that exercise and earlier ones
// (and the finished lessons before this one): 12.1's tests normalize in
// training mode without running statistics, 12.3's set the running statistics
// by hand, and backward() goes through the fused rule only from 12.4 on.

/// x as [N, C, inner] (row-major), the group of channel c: every x[n, c, i].
private func channel(_ x: [Float], _ shape: [Int], _ c: Int) -> [Double] {
    let (n, channels) = (shape[0], shape[1])
    let inner = shape.dropFirst(2).reduce(1, *)
    return (0..<n).flatMap { b in (0..<inner).map { i in Double(x[(b * channels + c) * inner + i]) } }
}

private func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
/// Divided by n (biased), or by n − 1.
private func variance(_ v: [Double], unbiased: Bool = false) -> Double {
    let m = mean(v)
    return v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - (unbiased ? 1 : 0))
}

/// Batch norm by hand, in Double: each channel by its mean and variance (biased unless `unbiased`),
/// `root` the denominator given the variance (√(σ² + ε) unless a mistake is being imitated).
private func batchNormByHand(_ x: [Float], _ shape: [Int], eps: Double = 1e-5, unbiased: Bool = false,
                             root: ((Double, Double) -> Double)? = nil) -> [Float] {
    let channels = shape[1], inner = shape.dropFirst(2).reduce(1, *)
    var out = [Float](repeating: 0, count: x.count)
    for c in 0..<channels {
        let group = channel(x, shape, c)
        let (m, v) = (mean(group), variance(group, unbiased: unbiased))
        let denominator = root?(v, eps) ?? (v + eps).squareRoot()
        for b in 0..<shape[0] {
            for i in 0..<inner {
                let at = (b * channels + c) * inner + i
                out[at] = Float((Double(x[at]) - m) / denominator)
            }
        }
    }
    return out
}

private func close(_ a: [Float], _ b: [Float], atol: Float = 1e-4, rtol: Float = 1e-4) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= atol + rtol * Swift.abs($1) }
}

/// Numbers from a private generator: `scale`·N(0, 1) + `shift`.
private func normals(_ shape: [Int], seed: UInt64, scale: Float = 1, shift: Float = 0, requiresGrad: Bool = false) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor((0..<elementCount(shape)).map { _ in g.nextNormal() * scale + shift }, shape: shape, requiresGrad: requiresGrad)
}

/// The fused rule by hand, in Double: dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/√(σ² + ε) per channel of
/// [N, C, …], or without the mean term or the x̂ term, to recognise those mistakes.
private func backwardByHand(x: [Float], dxHat: [Float], shape: [Int], eps: Double = 1e-5,
                            meanTerm: Bool = true, xHatTerm: Bool = true) -> [Float] {
    let channels = shape[1], inner = shape.dropFirst(2).reduce(1, *)
    var out = [Float](repeating: 0, count: x.count)
    for c in 0..<channels {
        let group = channel(x, shape, c), m = mean(group), invStd = 1 / (variance(group) + eps).squareRoot()
        let d = channel(dxHat, shape, c), h = group.map { ($0 - m) * invStd }
        let meanD = mean(d), meanDH = mean(zip(d, h).map { $0 * $1 })
        var k = 0
        for b in 0..<shape[0] {
            for i in 0..<inner {
                let at = (b * channels + c) * inner + i
                out[at] = Float((d[k] - (meanTerm ? meanD : 0) - (xHatTerm ? h[k] * meanDH : 0)) * invStd)
                k += 1
            }
        }
    }
    return out
}

/// A module that remembers whether a graph was being recorded when it ran, and passes x through.
private final class Spy: Module {
    var recording: [Bool] = []
    override func forward(_ x: Tensor) -> Tensor {
        recording.append(GradMode.isEnabled)
        return x
    }
}

/// A module that multiplies by a constant.
private final class Scale: Module {
    let factor: Float
    init(_ factor: Float) {
        self.factor = factor
        super.init()
    }
    override func forward(_ x: Tensor) -> Tensor { x * factor }
}

/// Whether a directory `FashionMNIST.load` searches holds the test labels.
private let fashionMNISTIsInstalled = FashionMNIST.searchPath().contains { directory in
    ["t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte"].contains {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent($0))
    }
}

@Suite("Lesson12", .serialized) struct Lesson12 {

    // MARK: 12.1 — per-group statistics

    @Suite("12.1 groupStatistics") struct Exercise_12_1 {
        @Test func eachChannelByItsMeanAndBiasedVariance() {
            // Channel 0: 1, 3, 10, 30; channel 1: 2, 4, 20, 40.
            let x: [Float] = [1, 2, 3, 4, 10, 20, 30, 40]
            let y = Tensor(x, shape: [4, 2]).batchNorm(runningMean: nil, runningVar: nil, training: true).toArray()
            let expected = batchNormByHand(x, [4, 2])
            let unbiased = batchNormByHand(x, [4, 2], unbiased: true)
            #expect(close(y, expected),
                    "batch norm of [4, 2]: expected \(expected), got \(y)\(close(y, unbiased) ? " — normalization uses the biased variance, divided by n (not n − 1)" : "")")
        }

        @Test func epsilonGoesInsideTheSquareRoot() {
            let x: [Float] = [1, 2, 3, 5, 2, 9]
            let y = Tensor(x, shape: [3, 2]).batchNorm(runningMean: nil, runningVar: nil, training: true, eps: 0.5).toArray()
            let expected = batchNormByHand(x, [3, 2], eps: 0.5)
            var hint = ""
            if close(y, batchNormByHand(x, [3, 2], eps: 0.5, root: { v, _ in v.squareRoot() })) { hint = " — ε is missing: 1/√(σ² + ε)" }
            if close(y, batchNormByHand(x, [3, 2], eps: 0.5, root: { v, e in v.squareRoot() + e })) { hint = " — ε goes inside the square root: 1/√(σ² + ε), not 1/(σ + ε)" }
            #expect(close(y, expected), "with eps 0.5: expected \(expected), got \(y)\(hint)")

            // A constant channel has variance 0: only ε keeps 0/0 away.
            let flat = Tensor([7, 1, 7, 2, 7, 3], shape: [3, 2]).batchNorm(runningMean: nil, runningVar: nil, training: true).toArray()
            #expect(flat[0] == 0 && flat[2] == 0 && flat[4] == 0,
                    "a constant channel (7, 7, 7) has σ² = 0 and must come out as 0, got \(flat[0]), \(flat[2]), \(flat[4])\(flat[0].isNaN ? " — 0/0: add ε to the variance before the square root" : "")")
        }

        @Test func aChannelsGroupSpansTheBatchAndTheImage() {
            let shape = [2, 3, 2, 2]
            let x = normals(shape, seed: 12, scale: 3, shift: 2)
            let y = x.batchNorm(runningMean: nil, runningVar: nil, training: true).toArray()
            let expected = batchNormByHand(x.toArray(), shape)
            #expect(close(y, expected),
                    "[2, 3, 2, 2]: each channel c is one group of every x[n, c, h, w], over the batch and the image (8 values); expected \(Array(expected.prefix(6)))…, got \(Array(y.prefix(6)))…")
            for c in 0..<3 {
                let group = channel(y, shape, c)
                #expect(Swift.abs(mean(group)) < 1e-4 && Swift.abs(variance(group) - 1) < 1e-3,
                        "channel \(c) should come out with mean 0 and variance 1 over its 8 values, got mean \(mean(group)), variance \(variance(group))")
            }
        }

        @Test func aLargeMeanLosesNoDigits() {
            // 20,000 values around 10,000 with spread 1: sums of Floats would lose the spread.
            let x = normals([20_000, 1], seed: 5, shift: 10_000)
            let y = x.batchNorm(runningMean: nil, runningVar: nil, training: true).toArray()
            let expected = batchNormByHand(x.toArray(), [20_000, 1])
            #expect(close(y, expected, atol: 1e-3, rtol: 1e-3),
                    "values around 10,000 with spread 1 should still come out with mean 0 and variance 1: first values expected \(Array(expected.prefix(4))), got \(Array(y.prefix(4))) — sum in Double, and square x − mean in a second pass (E[x²] − E[x]² cancels catastrophically)")
        }
    }

    // MARK: 12.2 — running statistics

    @Suite("12.2 running statistics") struct Exercise_12_2 {
        @Test func momentumMovesThemTowardTheBatch() {
            let x = Tensor([1, 2, 3, 4, 10, 20, 30, 40], shape: [4, 2])
            let runningMean = Tensor([1, -1]), runningVar = Tensor([2, 0.5])
            _ = x.batchNorm(runningMean: runningMean, runningVar: runningVar, training: true, momentum: 0.1)
            // Batch means 11 and 16.5; unbiased variances 526/3 and 931/3.
            let mean: [Float] = [0.9 * 1 + 0.1 * 11, 0.9 * -1 + 0.1 * 16.5]
            let variance: [Float] = [0.9 * 2 + 0.1 * 526 / 3, 0.9 * 0.5 + 0.1 * 931 / 3]
            let gotMean = runningMean.toArray(), gotVar = runningVar.toArray()
            let swapped = close(gotMean, [0.1 * 1 + 0.9 * 11, 0.1 * -1 + 0.9 * 16.5])
            #expect(close(gotMean, mean),
                    "running_mean from [1, -1] with momentum 0.1 toward the batch means [11, 16.5]: expected \(mean), got \(gotMean)\(swapped ? " — r ← (1 − momentum)·r + momentum·batch: momentum weighs the batch, not the old value" : "")")
            let biased: [Float] = [0.9 * 2 + 0.1 * 526 / 4, 0.9 * 0.5 + 0.1 * 931 / 4]
            #expect(close(gotVar, variance, rtol: 1e-3),
                    "running_var from [2, 0.5]: expected \(variance), got \(gotVar)\(close(gotVar, biased, rtol: 1e-3) ? " — running_var must use the unbiased variance (n/(n−1)), not the biased one used to normalize" : "")")
        }

        @Test func nCountsEveryValueOfTheChannel() {
            let shape = [2, 3, 2, 2]
            let x = normals(shape, seed: 22, scale: 2, shift: 1)
            let runningMean = Tensor.zeros([3]), runningVar = Tensor.ones([3])
            _ = x.batchNorm(runningMean: runningMean, runningVar: runningVar, training: true, momentum: 0.5)
            let values = x.toArray()
            let expected = (0..<3).map { Float(0.5 + 0.5 * variance(channel(values, shape, $0), unbiased: true)) }
            let withBatchSize = (0..<3).map { Float(0.5 + 0.5 * variance(channel(values, shape, $0)) * 2) }
            let got = runningVar.toArray()
            #expect(close(got, expected, rtol: 1e-3),
                    "running_var after one batch of [2, 3, 2, 2], momentum 0.5: expected \(expected), got \(got)\(close(got, withBatchSize, rtol: 1e-3) ? " — n is the number of values in the channel's group, N·H·W = 8, not the batch size N = 2" : "")")
            let means = (0..<3).map { Float(0.5 * mean(channel(values, shape, $0))) }
            #expect(close(runningMean.toArray(), means), "running_mean: expected \(means), got \(runningMean.toArray())")
        }

        @Test func theGivenTensorsChangeInPlaceOutsideTheGraph() {
            let runningMean = Tensor.zeros([2]), runningVar = Tensor.ones([2])
            let storages = (runningMean.storage, runningVar.storage)
            let x = Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2], requiresGrad: true)
            let y = x.batchNorm(runningMean: runningMean, runningVar: runningVar, training: true)
            #expect(runningMean.toArray() != [0, 0] && runningVar.toArray() != [1, 1],
                    "training must update the tensors it was given, in place: running_mean is still \(runningMean.toArray()), running_var \(runningVar.toArray())")
            #expect(runningMean.storage === storages.0 && runningVar.storage === storages.1, "the running statistics keep their storage")
            #expect(runningMean.node == nil && runningVar.node == nil && !runningMean.requiresGrad,
                    "running statistics are not parameters: no graph node, no gradient")
            #expect(close(y.toArray(), batchNormByHand(x.toArray(), [3, 2])),
                    "in training the output is normalized by the batch's statistics, whatever the running ones are")
        }
    }

    // MARK: 12.3 — evaluation

    @Suite("12.3 evaluation mode") struct Exercise_12_3 {
        @Test func normalizesByTheRunningStatistics() {
            let x = Tensor([3, -2, 5, 0, -1, -3], shape: [3, 2])
            let runningMean = Tensor([1, -2]), runningVar = Tensor([4, 0.25])
            let weight = Tensor([2, -1]), bias = Tensor([0.5, 1])
            let y = x.batchNorm(runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                                training: false).toArray()
            let eps: Float = 1e-5
            let (m, v, g, b): ([Float], [Float], [Float], [Float]) = ([1, -2], [4, 0.25], [2, -1], [0.5, 1])
            let expected: [Float] = x.toArray().enumerated().map { k, value in
                let c = k % 2
                let normalized: Float = (value - m[c]) / (v[c] + eps).squareRoot()
                return g[c] * normalized + b[c]
            }
            let batchLike: [Float] = batchNormByHand(x.toArray(), [3, 2]).enumerated().map { $1 * g[$0 % 2] + b[$0 % 2] }
            #expect(close(y, expected),
                    "eval with running_mean [1, -2], running_var [4, 0.25], γ [2, -1], β [0.5, 1]: expected \(expected), got \(y)\(close(y, batchLike) ? " — evaluation mode must use the running statistics, not the batch's" : "")")
            #expect(runningMean.toArray() == [1, -2] && runningVar.toArray() == [4, 0.25],
                    "evaluation changes nothing: running statistics now \(runningMean.toArray()), \(runningVar.toArray())")
        }

        @Test func epsilonToo() {
            let x = Tensor([1, 0.5, -1, 0], shape: [2, 2])
            let y = x.batchNorm(runningMean: Tensor([0, 0]), runningVar: Tensor([0, 1]), training: false, eps: 0.01).toArray()
            let expected: [Float] = [10, 0.5 / Float(1.01).squareRoot(), -10, 0]
            #expect(close(y, expected),
                    "running_var [0, 1] with eps 0.01: expected \(expected), got \(y)\(y.contains { !$0.isFinite } ? " — add ε to the running variance too: √(running_var + ε)" : "")")
        }

        @Test func eachExampleOnItsOwn() {
            // In evaluation a prediction must not depend on the other examples of the batch.
            let bn = BatchNorm1d(3)
            noGrad {
                bn.runningMean.tensor.assign(Tensor([0.5, -1, 2]))
                bn.runningVar.tensor.assign(Tensor([1, 4, 0.25]))
            }
            bn.eval()
            let batch = normals([5, 3], seed: 31, scale: 2)
            let together = bn(batch).toArray()
            let alone = bn(batch.sliced(axis: 0, from: 0, to: 1)).toArray()
            #expect(close(Array(together.prefix(3)), alone),
                    "example 0 alone gives \(alone), in a batch of 5 it gives \(Array(together.prefix(3))) — in evaluation use the running statistics, not the batch's")
            #expect(bn.runningMean.tensor.toArray() == [0.5, -1, 2], "evaluation must not update the running statistics")
        }

        @Test func theGradientFlowsInEvaluationToo() {
            // Fixed statistics: y = γ·(x − m)/√(v + ε) + β, so ∂y/∂x = γ/√(v + ε).
            let x = Tensor([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
            let weight = Tensor([3, -1], requiresGrad: true)
            let y = x.batchNorm(runningMean: Tensor([1, 1]), runningVar: Tensor([3.99999, 0.24999]), weight: weight,
                                bias: nil, training: false)
            y.sum().backward()
            let expected: [Float] = [1.5, -2, 1.5, -2]
            #expect(close(x.grad?.toArray() ?? [], expected),
                    "x.grad through evaluation mode: expected γ/√(v + ε) = \(expected), got \(x.grad?.toArray() ?? []) — compose ordinary ops on x (detach only the running statistics)")
        }
    }

    // MARK: 12.4 — the fused backward rule

    @Suite("12.4 normalizationBackward") struct Exercise_12_4 {
        @Test func theFusedRuleOfEachChannel() {
            let shape = [4, 3]
            let x = normals(shape, seed: 41, scale: 2, shift: 1, requiresGrad: true)
            let upstream = normals(shape, seed: 42)
            (x.batchNorm(runningMean: nil, runningVar: nil, training: true) * upstream).sum().backward()
            let got = x.grad?.toArray() ?? []
            let expected = backwardByHand(x: x.toArray(), dxHat: upstream.toArray(), shape: shape)
            var hint = ""
            if close(got, backwardByHand(x: x.toArray(), dxHat: upstream.toArray(), shape: shape, xHatTerm: false)) {
                hint = " — the third term −x̂·mean(dx̂·x̂) is missing: σ depends on x too"
            } else if close(got, backwardByHand(x: x.toArray(), dxHat: upstream.toArray(), shape: shape, meanTerm: false)) {
                hint = " — the term −mean(dx̂) is missing: μ depends on x too"
            } else if close(got, backwardByHand(x: x.toArray(), dxHat: upstream.toArray(), shape: shape, meanTerm: false, xHatTerm: false)) {
                hint = " — that is dx̂/σ alone, as if μ and σ were constants: subtract mean(dx̂) and x̂·mean(dx̂·x̂)"
            }
            #expect(close(got, expected), "x.grad of Σ upstream·batchNorm(x): expected \(expected), got \(got)\(hint)")
        }

        @Test func aShiftOfTheWholeGroupChangesNothing() {
            // Σ y over a channel is always 0, so its gradient is 0: the rule's terms cancel exactly.
            let x = normals([3, 2, 2], seed: 43, scale: 3, requiresGrad: true)
            x.batchNorm(runningMean: nil, runningVar: nil, training: true).sum().backward()
            let got = x.grad?.toArray() ?? []
            #expect(got.count == 12 && got.allSatisfy { Swift.abs($0) < 1e-4 },
                    "the gradient of Σ batchNorm(x) must be 0 (every channel's outputs sum to 0 whatever x is), got \(got) — subtract mean(dx̂): a shift shared by the whole group does not change x̂")
        }

        @Test func matchesFiniteDifferencesOnImages() {
            let x = normals([2, 3, 2, 2], seed: 44, scale: 2, shift: -1, requiresGrad: true)
            let weight = normals([3], seed: 45, scale: 0.3, shift: 1, requiresGrad: true)
            let bias = normals([3], seed: 46, scale: 0.1, requiresGrad: true)
            let report = gradcheck([x, weight, bias], epsilon: 1e-2, atol: 2e-2, rtol: 2e-2) {
                $0[0].batchNorm(runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true)
            }
            #expect(report.passed, "batch norm of [2, 3, 2, 2] against finite differences (lesson 7) — each channel's means run over the batch and the image:\n\(report)")
        }

        @Test func aScalingOfTheWholeGroupChangesNothing() {
            // Σ x̂² over a channel is n·σ²/(σ² + ε): (nearly) the same whatever x is, so its gradient is (nearly) 0.
            let x = normals([6, 2], seed: 47, scale: 2, requiresGrad: true)
            let y = x.batchNorm(runningMean: nil, runningVar: nil, training: true)
            #expect(y.node?.op == "batchNorm" && y.node?.inputs.count == 1,
                    "without γ and β the result is the one fused node 'batchNorm', got \(y.node?.op ?? "no node")")
            (y * y).sum().backward()
            let got = x.grad?.toArray() ?? []
            #expect(got.count == 12 && got.allSatisfy { Swift.abs($0) < 1e-3 },
                    "the gradient of Σ x̂² must be (nearly) 0: x̂ always has variance 1, got \(got) — the term −x̂·mean(dx̂·x̂) removes that direction, because σ depends on x too")
        }
    }

    // MARK: 12.5 — layer norm

    @Suite("12.5 layerNorm") struct Exercise_12_5 {
        @Test func eachRowIsAGroup() {
            let x: [Float] = [1, 2, 3, 6, -4, 0, 4, 8, 5, 5, 5, 9]
            let y = Tensor(x, shape: [3, 4]).layerNorm([4]).toArray()
            // Each row as a channel of [1, 4]: the same arithmetic, one row at a time.
            let expected = (0..<3).flatMap { r in batchNormByHand(Array(x[(4 * r)..<(4 * r + 4)]), [4, 1]) }
            let whole = batchNormByHand(x, [12, 1])
            #expect(close(y, expected),
                    "layerNorm([4]) of [3, 4]: each row is a group of its own, expected \(expected), got \(y)\(close(y, whole) ? " — that normalizes the whole tensor as one group; each example is a group" : "")")
        }

        @Test func theGroupIsTheTrailingAxes() {
            let x = normals([2, 3, 4], seed: 51, scale: 2, shift: 3)
            let values = x.toArray()
            let lastTwo = x.layerNorm([3, 4]).toArray()
            let expected12 = (0..<2).flatMap { r in batchNormByHand(Array(values[(12 * r)..<(12 * r + 12)]), [12, 1]) }
            #expect(close(lastTwo, expected12),
                    "layerNorm([3, 4]) of [2, 3, 4]: 2 groups of 12, got \(Array(lastTwo.prefix(4)))…, expected \(Array(expected12.prefix(4)))…")
            let last = x.layerNorm([4]).toArray()
            let expected4 = (0..<6).flatMap { r in batchNormByHand(Array(values[(4 * r)..<(4 * r + 4)]), [4, 1]) }
            let byFirstAxis = close(last, expected12)
            #expect(close(last, expected4),
                    "layerNorm([4]) of [2, 3, 4]: 6 groups of 4 (every axis before the normalized ones counts as batch), got \(Array(last.prefix(4)))…\(byFirstAxis ? " — the groups are count / (elements of normalizedShape), not shape[0]" : "")")
        }

        @Test func weightAndBiasPerFeature() {
            let x = Tensor([1, 2, 3, 6, -4, 0, 4, 8], shape: [2, 4])
            let weight = Tensor([1, 2, 3, 4]), bias = Tensor([0, 0.5, -0.5, 1])
            let y = x.layerNorm([4], weight: weight, bias: bias).toArray()
            let plain = x.layerNorm([4]).toArray()
            let expected = plain.enumerated().map { $1 * [1, 2, 3, 4][$0 % 4] + [0, 0.5, -0.5, 1][$0 % 4] }
            #expect(close(y, expected),
                    "γ [1, 2, 3, 4] and β [0, 0.5, −0.5, 1] act per feature, broadcast over the rows: expected \(expected), got \(y)\(close(y, plain) ? " — γ and β were not applied" : "")")
        }

        @Test func gradientsMatchFiniteDifferences() {
            let x = normals([2, 3, 4], seed: 52, scale: 2, shift: -1, requiresGrad: true)
            let weight = normals([4], seed: 53, scale: 0.3, shift: 1, requiresGrad: true)
            let bias = normals([4], seed: 54, scale: 0.1, requiresGrad: true)
            let report = gradcheck([x, weight, bias], epsilon: 1e-2, atol: 2e-2, rtol: 2e-2) {
                $0[0].layerNorm([4], weight: $0[1], bias: $0[2])
            }
            #expect(report.passed, "layerNorm([4]) against finite differences (lesson 7): record the node with the fused rule (your 12.4), then γ and β as ordinary ops:\n\(report)")
            let plain = normals([3, 4], seed: 55, requiresGrad: true).layerNorm([4])
            #expect(plain.node?.op == "layerNorm", "without γ and β the result is the fused node 'layerNorm', got \(plain.node?.op ?? "no node")")
        }
    }

    // MARK: 12.6 — activation statistics

    @Suite("12.6 activationStatistics") struct Exercise_12_6 {
        @Test func oneEntryPerLayerOfItsOutput() {
            let input = Tensor([1, -2, 3, 0, -1, 2], shape: [3, 2])
            let model = Sequential(Scale(2), ReLU(), Flatten())
            let stats = activationStatistics(of: model, on: input)
            #expect(stats.map(\.index) == [0, 1, 2] && stats.map(\.layer) == ["Scale", "ReLU", "Flatten"],
                    "one entry per layer, in order, named by type: got \(stats.map { "\($0.index) \($0.layer)" })")
            guard stats.count == 3 else { return }
            // 2x = [2, −4, 6, 0, −2, 4]: mean 1, variance 76/6 − 1; relu: [2, 0, 6, 0, 0, 4]: mean 2, variance 56/6 − 4.
            let expected: [(Double, Double)] = [(1, (76.0 / 6 - 1).squareRoot()), (2, (56.0 / 6 - 4).squareRoot()), (2, (56.0 / 6 - 4).squareRoot())]
            for (s, (m, sd)) in zip(stats, expected) {
                var hint = ""
                if Swift.abs(s.std - sd * (6.0 / 5).squareRoot()) < 1e-6 { hint = " — std divides by n, the number of elements, not n − 1" }
                if Swift.abs(s.std - sd * sd) < 1e-6 { hint = " — that is the variance; std is its square root" }
                #expect(Swift.abs(s.mean - m) < 1e-6 && Swift.abs(s.std - sd) < 1e-6,
                        "layer \(s.index) (\(s.layer)): expected mean \(m), std \(sd), got mean \(s.mean), std \(s.std)\(hint)")
            }
            #expect(stats.map(\.shape) == [[3, 2], [3, 2], [3, 2]], "each entry has its layer's output shape, got \(stats.map(\.shape))")
        }

        @Test func eachLayerSeesThePreviousOutput() {
            let stats = activationStatistics(of: Sequential(Scale(2), Scale(3), Scale(-1)), on: Tensor([1, 3], shape: [1, 2]))
            let means = stats.map(\.mean)
            #expect(means == [4, 12, -12],
                    "2x, then 3·(2x), then −(6x) of [1, 3]: means [4, 12, -12], got \(means)\(means == [4, 6, -2] ? " — each layer must get the previous layer's output, not the model's input" : "")")
        }

        @Test func measuresWithoutAGraph() {
            let spy = Spy()
            let x = Tensor([1, 2], shape: [1, 2], requiresGrad: true)
            _ = activationStatistics(of: Sequential(Scale(1), spy), on: x)
            #expect(spy.recording == [false], "measuring needs no graph: run the layers inside noGrad { … }, got recording \(spy.recording)")
        }

        @Test func aLargeMeanLosesNoDigits() {
            let x = normals([100, 100], seed: 61, shift: 10_000)
            let stats = activationStatistics(of: Sequential(Scale(1)), on: x)
            let values = x.toArray().map(Double.init)
            let sd = variance(values).squareRoot()
            #expect(Swift.abs((stats.first?.std ?? 0) - sd) < 1e-3 * sd,
                    "10,000 values around 10,000 with spread 1: std \(sd), got \(stats.first?.std ?? .nan) — sum in Double, and square x − mean in a second pass")
        }
    }

    // MARK: Milestone — a deep network with batch norm on Fashion-MNIST

    // Your batch norm end to end: six blocks of Linear, BatchNorm1d and ReLU,
    // trained for one epoch on 20,000 training images (batch statistics, the
    // fused backward, the running statistics), then measured in evaluation
    // mode (the running statistics). `kindling train --model cnn --augment`
    // runs the real milestone, a CNN past 92%.
    @Suite("Milestone: batch norm on Fashion-MNIST", .enabled(if: fashionMNISTIsInstalled, "Fashion-MNIST is not installed"))
    struct Milestone {
        @Test func aDeepMLPWithBatchNormLearnsInOneEpoch() throws {
            let train = try FashionMNIST.load(.train)
            let test = try FashionMNIST.load(.test)
            let subset = TensorDataset(inputs: train.inputs.sliced(axis: 0, from: 0, to: 20_000),
                                       targets: train.targets.sliced(axis: 0, from: 0, to: 20_000))
            let model = withSeed(0) { () -> Sequential in
                var layers: [Module] = [Flatten(), Linear(784, 128, bias: false), BatchNorm1d(128), ReLU()]
                for _ in 0..<5 { layers += [Linear(128, 128, bias: false), BatchNorm1d(128), ReLU()] }
                return Sequential(layers + [Linear(128, 10)])
            }
            let optimizer = SGD(parameters: model.parameters(), learningRate: 0.02, momentum: 0.9)
            let loss = trainEpoch(model: model, loader: DataLoader(subset, batchSize: 64, shuffle: true, seed: 0), optimizer: optimizer)
            let acc = accuracy(of: model, on: test)
            print("Fashion-MNIST, a deep MLP with batch norm, one epoch on 20,000 images: train loss \(loss), test accuracy \(acc)")
            #expect(acc > 0.8, "after one epoch the test accuracy (in evaluation mode, by the running statistics) should pass 80%, got \(acc)\(loss < 0.6 ? " — training went well (loss \(loss)), so look at evaluation: the running statistics (12.2) and their use (12.3)" : "")")
        }
    }
}
