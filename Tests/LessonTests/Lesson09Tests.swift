import Testing
import Kindling

// Lesson 9 — losses and optimizers (Lessons/09-losses-optimizers.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson09           all of lesson 9
//     swift test --filter Exercise_9_6       one exercise
//
// The suites run in order, one exercise after another. An exercise that is not
// written yet stops the run with "Exercise 9.x is not done yet" — that is the
// next one to do. Each exercise's tests use only that exercise and earlier ones
// (and the finished lessons before this one).

/// |a − b| ≤ tolerance · max(1, |b|).
private func close(_ a: Float, _ b: Float, _ tolerance: Float = 1e-5) -> Bool {
    Swift.abs(a - b) <= tolerance * Swift.max(1, Swift.abs(b))
}

private func close(_ a: [Float], _ b: [Float], _ tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { close($0, $1, tolerance) }
}

/// Calls exercise 9.3 on plain arrays: the row's loss and the probabilities it wrote.
private func row(_ logits: [Float], target: Int) -> (loss: Float, probabilities: [Float]) {
    var probabilities = [Float](repeating: .nan, count: logits.count)
    let loss = logits.withUnsafeBufferPointer { l in
        probabilities.withUnsafeMutableBufferPointer { p in crossEntropyRow(l, target: target, probabilities: p) }
    }
    return (loss, probabilities)
}

/// A parameter with a gradient set by hand, so an optimizer step can be checked by hand.
private func parameter(_ values: [Float], grad: [Float]) -> Tensor {
    let p = Tensor(values, requiresGrad: true)
    p.grad = Tensor(grad)
    return p
}

@Suite("Lesson09", .serialized) struct Lesson09 {

    // MARK: 9.1 — mean squared error

    @Suite("9.1 mseLoss") struct Exercise_9_1 {
        @Test func valueIsTheMeanOfTheSquares() {
            let input = Tensor([1, 2, 3, 4], shape: [2, 2])
            let target = Tensor([0, 2, 5, 1], shape: [2, 2])
            let loss = mseLoss(input, target)
            // differences 1, 0, −2, 3 → squares 1, 0, 4, 9 → mean 14 / 4
            #expect(loss.shape == [], "a loss is one number: shape [], got \(loss.shape)")
            #expect(close(loss.item(), 3.5), "mean of (1, 0, 4, 9) is 3.5, got \(loss.item())\(close(loss.item(), 14) ? " — that is the sum: divide by the number of elements" : "")")
        }

        @Test func gradientIsTwiceTheDifferenceOverN() {
            let input = Tensor([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
            let target = Tensor([0, 2, 5, 1], shape: [2, 2])
            let loss = mseLoss(input, target)
            guard loss.requiresGrad else {
                Issue.record("the loss has no graph, so backward() cannot reach the input: build it from recorded tensor ops (-, *, mean()), not from a number computed in a loop and wrapped in a new tensor")
                return
            }
            loss.backward()
            let grad = input.grad?.toArray() ?? []
            #expect(close(grad, [0.5, 0, -1, 1.5]),
                    "∂/∂input = 2·(input − target) / 4 = [0.5, 0, −1, 1.5], got \(grad) — build the loss from recorded tensor ops so backward() can reach the input")
        }
    }

    // MARK: 9.2 — negative log-likelihood

    @Suite("9.2 nllLoss") struct Exercise_9_2 {
        @Test func picksEachRowsTargetEntry() {
            let logProbs = Tensor([-1, -2, -3, -0.5, -1.5, -2.5], shape: [2, 3])
            let loss = nllLoss(logProbs, [2, 0])
            let cause = close(loss.item(), -1.75) ? " — the sign: the loss is minus the mean of the picked log-probabilities"
                : close(loss.item(), 3.5) ? " — that is the sum: divide by N" : ""
            #expect(close(loss.item(), 1.75), "−(−3 + −0.5) / 2 = 1.75, got \(loss.item())\(cause)")
        }

        @Test func gradientIsMinusOneOverNAtTheTargets() {
            let logProbs = Tensor([-1, -2, -3, -0.5, -1.5, -2.5], shape: [2, 3], requiresGrad: true)
            nllLoss(logProbs, [2, 0]).backward()
            let grad = logProbs.grad?.toArray() ?? []
            #expect(close(grad, [0, 0, -0.5, -0.5, 0, 0]), "expected −1/N = −0.5 at each target and 0 elsewhere, got \(grad)\(whereItGoesWrong { nllLoss(logProbs, [2, 0]) })")
        }
    }

    // MARK: 9.3 — one row of cross-entropy

    @Suite("9.3 crossEntropyRow") struct Exercise_9_3 {
        @Test func lossIsLogSumExpMinusTheTargetScore() {
            let (loss, _) = row([1, 2, 3], target: 2)
            #expect(close(loss, 0.40760596), "log(e¹ + e² + e³) − 3 = 0.4076060, got \(loss)")
            let (other, _) = row([1, 2, 3], target: 0)
            #expect(close(other, 2.40760596), "log(e¹ + e² + e³) − 1 = 2.4076060, got \(other)")
        }

        @Test func writesTheSoftmaxProbabilities() {
            let (_, p) = row([1, 2, 3], target: 2)
            #expect(close(p, [0.09003057, 0.24472847, 0.66524096]),
                    "softmax([1, 2, 3]) = [0.0900306, 0.2447285, 0.6652410], got \(p)")
        }

        @Test func hugeScoresStayFinite() {
            let (loss, p) = row([1000, 0], target: 1)
            #expect(loss.isFinite && close(loss, 1000),
                    "scores [1000, 0], target 1: the loss is 1000, got \(loss) — e¹⁰⁰⁰ overflows: subtract the row's maximum before exp")
            #expect(close(p, [1, 0]), "softmax([1000, 0]) ≈ [1, 0], got \(p)")
        }

        @Test func aTinyProbabilityStillHasAFiniteLoss() {
            let (loss, _) = row([500, 1000, 0], target: 0)
            #expect(close(loss, 500), "scores [500, 1000, 0], target 0: the loss is 500, got \(loss)\(loss.isInfinite ? " — p₀ = e^(−500) rounds to 0 in Float: return logf(sum) − (logits[target] − m), not −log p" : "")")
        }

        @Test func scoresNearMinusTenThousandKeepTheirDigits() {
            let (loss, _) = row([-10_000, -10_001], target: 0)
            #expect(Swift.abs(loss - 0.31326169) < 2e-5,
                    "scores [−10000, −10001], target 0: the loss is log(1 + e⁻¹) = 0.3132617, got \(loss) — subtract first: logf(sum) − (logits[target] − m); m + logf(sum) keeps only about a thousandth near 10,000")
        }

        @Test func crossEntropyAveragesTheRows() {
            let logits = Tensor([1, 2, 3, 1, 1, 1], shape: [2, 3])
            let loss = crossEntropy(logits, [2, 0])
            // (0.4076060 + log 3) / 2
            #expect(close(loss.item(), 0.75310913), "mean of 0.4076060 and log 3 is 0.7531091, got \(loss.item())")
            let composed = nllLoss(logits.logSoftmax(axis: 1), [2, 0]).item()
            #expect(close(loss.item(), composed), "crossEntropy must equal nllLoss(logSoftmax): \(loss.item()) vs \(composed)")
        }
    }

    // MARK: 9.4 — the gradient of cross-entropy

    @Suite("9.4 crossEntropyGradient") struct Exercise_9_4 {
        @Test func softmaxMinusOneHot() {
            let probabilities = Tensor([0.2, 0.3, 0.5, 0.6, 0.3, 0.1], shape: [2, 3])
            let grad = crossEntropyGradient(probabilities: probabilities, targets: [2, 0], scale: 1)
            #expect(grad.shape == [2, 3], "one gradient entry per logit: shape [2, 3], got \(grad.shape)")
            #expect(close(grad.toArray(), [0.2, 0.3, -0.5, -0.4, 0.3, 0.1]),
                    "probabilities minus 1 at each row's target: expected [0.2, 0.3, −0.5, −0.4, 0.3, 0.1], got \(grad.toArray())\(close(grad.toArray(), probabilities.toArray()) ? " — the one-hot is missing: subtract scale at i * classes + targets[i], so each row sums to 0" : "")")
        }

        @Test func scaleMultipliesEverything() {
            let probabilities = Tensor([0.2, 0.3, 0.5], shape: [1, 3])
            let grad = crossEntropyGradient(probabilities: probabilities, targets: [1], scale: 0.5)
            #expect(close(grad.toArray(), [0.1, -0.35, 0.25]),
                    "(p − onehot) · 0.5 = [0.1, −0.35, 0.25], got \(grad.toArray()) — the one-hot is scaled too\(close(grad.toArray(), [0.2, -0.2, 0.5]) ? "; and multiply every probability by scale" : "")")
        }

        @Test func backwardThroughCrossEntropy() {
            let logits = Tensor([1, 2, 3, 1, 1, 1], shape: [2, 3], requiresGrad: true)
            crossEntropy(logits, [2, 0]).backward()
            let expected: [Float] = [0.04501529, 0.12236424, -0.16737952, -0.33333333, 0.16666667, 0.16666667]
            let grad = logits.grad?.toArray() ?? []
            #expect(close(grad, expected), "(softmax − onehot) / N: expected \(expected), got \(grad)\(whereItGoesWrong { crossEntropy(logits, [2, 0]) })")
        }
    }

    // MARK: 9.5 — binary cross-entropy on a raw score

    @Suite("9.5 binaryCrossEntropyWithLogits") struct Exercise_9_5 {
        @Test func matchesTheDefinition() {
            // −[y·log σ(x) + (1 − y)·log(1 − σ(x))]
            let cases: [(x: Float, y: Float, loss: Float)] = [(0, 1, 0.69314718), (2, 0.25, 1.62692801), (-3, 1, 3.04858735)]
            for c in cases {
                let got = binaryCrossEntropyWithLogits(logit: c.x, target: c.y)
                #expect(close(got, c.loss), "x = \(c.x), y = \(c.y): expected \(c.loss), got \(got)")
            }
        }

        @Test func largeScoresDoNotOverflow() {
            let wrong = binaryCrossEntropyWithLogits(logit: 100, target: 0)
            #expect(close(wrong, 100), "x = 100, y = 0: a confident wrong answer costs 100, got \(wrong)")
            let right = binaryCrossEntropyWithLogits(logit: -100, target: 0)
            #expect(right.isFinite && right >= 0 && right < 1e-6, "x = −100, y = 0: almost no loss, got \(right)")
            let wrongLow = binaryCrossEntropyWithLogits(logit: -100, target: 1)
            #expect(close(wrongLow, 100), "x = −100, y = 1: expected 100, got \(wrongLow) — σ(−100) computes as 0 because e^100 overflows, and log 0 = −∞; use max(x, 0) − x·y + log(1 + e^(−|x|))")
        }

        @Test func aConfidentRightAnswerKeepsItsDigits() {
            let loss = binaryCrossEntropyWithLogits(logit: 30, target: 1)
            #expect(loss > 0 && Swift.abs(loss - 9.357623e-14) < 1e-18,
                    "x = 30, y = 1: the loss is log(1 + e⁻³⁰) ≈ 9.357623·10⁻¹⁴, got \(loss)\(loss == 0 ? " — logf(1 + …) rounds 1 + 9.4·10⁻¹⁴ to exactly 1: use log1pf" : "")")
        }

        @Test func theTensorLossIsTheMean() {
            let loss = binaryCrossEntropyWithLogits(Tensor([0, 2, -3]), Tensor([1, 0.25, 1]))
            #expect(close(loss.item(), (0.69314718 + 1.62692801 + 3.04858735) / 3), "got \(loss.item())")
        }
    }

    // MARK: 9.6 — SGD

    @Suite("9.6 SGD") struct Exercise_9_6 {
        @Test func plainStepIsMinusLearningRateTimesGradient() {
            let p = parameter([1, -2], grad: [0.5, -1])
            SGD(parameters: [p], learningRate: 0.1).step()
            #expect(close(p.toArray(), [0.95, -1.9]), "θ − 0.1·g = [0.95, −1.9], got \(p.toArray())")
        }

        @Test func weightDecayAddsLambdaTheta() {
            let p = parameter([1, -2], grad: [0.5, -1])
            SGD(parameters: [p], learningRate: 0.1, weightDecay: 0.1).step()
            // g + λθ = [0.6, −1.2]
            #expect(close(p.toArray(), [0.94, -1.88]), "θ − 0.1·(g + 0.1·θ) = [0.94, −1.88], got \(p.toArray())")
        }

        @Test func weightDecayWithMomentum() {
            let p = parameter([1, -2], grad: [0.5, -1])
            SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1).step()
            #expect(close(p.toArray(), [0.94, -1.88]),
                    "first step with momentum: v = g + 0.1·θ, θ − 0.1·v = [0.94, −1.88], got \(p.toArray())\(close(p.toArray(), [0.95, -1.9]) ? " — the weight decay is missing: it applies with momentum too (g = gradient + λ·θ)" : "")")
        }

        @Test func eachParameterHasItsOwnVelocity() {
            let p = parameter([1], grad: [1]), q = parameter([1], grad: [-3])
            let optimizer = SGD(parameters: [p, q], learningRate: 0.1, momentum: 0.5)
            optimizer.step()
            optimizer.step()
            // p: v = 1 then 1.5 → 1 − 0.1 − 0.15 = 0.75; q: v = −3 then −4.5 → 1 + 0.3 + 0.45 = 1.75.
            #expect(close(p.toArray(), [0.75]) && close(q.toArray(), [1.75]),
                    "two momentum steps: p = 0.75, q = 1.75; got \(p.toArray()) and \(q.toArray()) — each parameter has its own buffer, velocity[index]")
        }

        @Test func nesterovLooksAhead() {
            let p = parameter([1], grad: [0.5])
            SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, nesterov: true).step()
            #expect(close(p.toArray(), [0.905]),
                    "Nesterov's first step: v = g = 0.5, θ − 0.1·(g + 0.9·v) = 0.905, got \(p.toArray())\(close(p.toArray(), [0.95]) ? " — with nesterov the step is g + μ·v, not v" : "")")
        }

        @Test func momentumRemembersThePreviousStep() {
            let p = parameter([1, -2], grad: [0.5, -1])
            let optimizer = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9)
            optimizer.step()
            #expect(close(p.toArray(), [0.95, -1.9]), "the first step sets v = g, so it moves like plain SGD: [0.95, −1.9], got \(p.toArray())")
            p.grad = Tensor([0.5, -1])
            optimizer.step()
            // v = 0.9·g + g = [0.95, −1.9]
            #expect(close(p.toArray(), [0.855, -1.71]), "second step: v = 0.9·v + g = [0.95, −1.9], θ = [0.855, −1.71]; got \(p.toArray())")
        }
    }

    // MARK: 9.7 — Adam

    @Suite("9.7 Adam") struct Exercise_9_7 {
        @Test func firstStepMovesByTheLearningRate() {
            let p = parameter([1, -2], grad: [0.5, -1])
            Adam(parameters: [p], learningRate: 0.1).step()
            #expect(close(p.toArray(), [0.9, -1.9]),
                    "after bias correction m̂ = g and v̂ = g², so the first step is lr·g/|g| = ±0.1: expected [0.9, −1.9], got \(p.toArray())")
        }

        @Test func epsilonOutsideTheSquareRoot() {
            let p = parameter([1], grad: [0.5])
            Adam(parameters: [p], learningRate: 0.1, epsilon: 1).step()
            #expect(close(p.toArray(), [0.96666667]),
                    "with ε = 1 the first step is lr·g/(|g| + ε) = 0.1·0.5/1.5: θ = 0.9666667, got \(p.toArray())\(close(p.toArray(), [0.95527864]) ? " — ε went inside the square root: ε goes outside the square root, √v̂ + ε" : "")")
        }

        @Test func stepsAreCountedPerParameter() {
            let p = parameter([1], grad: [0.5]), q = Tensor([1], requiresGrad: true)  // q has no gradient yet
            let optimizer = Adam(parameters: [p, q], learningRate: 0.1)
            optimizer.step()
            q.grad = Tensor([0.5])
            optimizer.step()
            #expect(close(q.toArray(), [0.9]),
                    "q's first update (it had no gradient on the first step) moves it by lr: 0.9, got \(q.toArray()) — count t per parameter (updates[index]), not with stepCount: a parameter without a gradient is skipped")
        }

        @Test func adamWShrinksTheWeight() {
            let p = parameter([1], grad: [0.5])
            AdamW(parameters: [p], learningRate: 0.1, weightDecay: 0.1).step()
            #expect(close(p.toArray(), [0.89]),
                    "AdamW: θ·(1 − 0.1·0.1) − 0.1 = 0.89, got \(p.toArray())\(close(p.toArray(), [0.9]) ? " — decoupled: AdamW shrinks the weight (θ *= 1 − lr·λ) instead of adding λ·θ to g" : "")")
        }

        @Test func twoSteps() {
            let p = parameter([1, -2], grad: [0.5, -1])
            let optimizer = Adam(parameters: [p], learningRate: 0.1)
            optimizer.step()
            p.grad = Tensor([-0.5, 2])
            optimizer.step()
            #expect(close(p.toArray(), [0.90526316, -1.93661035]),
                    "two steps with gradients [0.5, −1] then [−0.5, 2]: expected [0.9052632, −1.9366104], got \(p.toArray())")
        }
    }

    // MARK: 9.8 — cosine schedule

    @Suite("9.8 CosineAnnealingLR") struct Exercise_9_8 {
        @Test func halfACosineFromTheStartToTheMinimum() {
            let optimizer = SGD(parameters: [Tensor([0], requiresGrad: true)], learningRate: 1)
            let schedule = CosineAnnealingLR(optimizer, totalEpochs: 4)
            var rates: [Float] = []
            for _ in 0..<4 {
                schedule.step()
                rates.append(optimizer.learningRate)
            }
            let cause = rates == [1, 1, 1, 0] ? " — integer division: convert to Float before dividing"
                : rates.count == 4 && rates[1] < 0.49 ? " — start from initial every time: multiplying the current rate compounds the changes" : ""
            #expect(close(rates, [0.85355339, 0.5, 0.14644661, 0]),
                    "lr after epochs 1…4 of 4: (1 + cos(π·t/4))/2 = [0.854, 0.5, 0.146, 0], got \(rates)\(cause)")
        }

        @Test func staysAtTheMinimumAfterTheEnd() {
            let optimizer = SGD(parameters: [Tensor([0], requiresGrad: true)], learningRate: 0.5)
            let schedule = CosineAnnealingLR(optimizer, totalEpochs: 2, minimum: 0.1)
            for _ in 0..<5 { schedule.step() }
            #expect(close(optimizer.learningRate, 0.1), "after the last epoch the rate stays at the minimum 0.1, got \(optimizer.learningRate) — cap the epoch at totalEpochs")
        }
    }

    // MARK: Milestone — a classifier learns

    // Everything together: a linear classifier on three clouds of points,
    // cross-entropy, SGD with momentum, a cosine schedule.
    @Suite("Milestone: a classifier learns") struct Milestone {
        @Test func lossFallsAndEveryPointIsClassified() {
            var g = SeededGenerator(seed: 9)
            let centres: [(Float, Float)] = [(2, 0), (-1, 1.7), (-1, -1.7)]
            var points: [Float] = [], labels: [Int] = []
            for i in 0..<60 {
                let (cx, cy) = centres[i % 3]
                points += [cx + 0.3 * g.nextNormal(), cy + 0.3 * g.nextNormal()]
                labels.append(i % 3)
            }
            let x = Tensor(points, shape: [60, 2])
            let w = Tensor.zeros([2, 3], requiresGrad: true), b = Tensor.zeros([3], requiresGrad: true)
            let optimizer = SGD(parameters: [w, b], learningRate: 0.1, momentum: 0.9)
            let schedule = CosineAnnealingLR(optimizer, totalEpochs: 30)
            var losses: [Float] = []
            for _ in 0..<30 {
                optimizer.zeroGrad()
                let loss = crossEntropy(x.matmul(w) + b, labels)
                loss.backward()
                optimizer.step()
                schedule.step()
                losses.append(loss.item())
            }
            #expect(close(losses[0], 1.0986123), "with zero weights every class has probability 1/3: the first loss is log 3, got \(losses[0])")
            #expect(losses.last! < 0.1, "the loss should fall below 0.1 in 30 steps, got \(losses.last!) (losses: \(losses.prefix(5))…)")
            let predicted = (x.matmul(w) + b).argmax(axis: 1).toArray().map { Int($0) }
            #expect(predicted == labels, "every point should be classified correctly")
        }
    }
}
