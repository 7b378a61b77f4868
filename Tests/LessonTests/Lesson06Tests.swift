import Foundation
import Testing
// `@testable` for `accumulateGrad` (exercise 6.3), which the library keeps internal.
import Kindling

// Lesson 6 — tensor autograd (Lessons/06-tensor-autograd.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson06           all of lesson 6
//     swift test --filter Exercise_6_5       one exercise
//
// The suites run in order, one exercise after another. An exercise that is not
// written yet stops the run with "Exercise 6.x is not done yet". Each
// exercise's tests use only that exercise and earlier ones: the tests of 6.1–6.4
// build graphs without running backward(), those of 6.5 use only ops whose
// backward rules are finished code (+, −, sum, exp, log, numbers), and each
// later rule is checked through your backward().

/// |a − b| ≤ 1e-5 + 1e-4·|b|, element by element, same count.
private func close(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= 1e-5 + 1e-4 * Swift.abs($1) }
}

/// The values of a gradient, or a note that there is none, for messages.
private func show(_ t: Tensor?) -> String { t.map { "\($0.toArray()) (shape \($0.shape))" } ?? "nil (no gradient)" }

@Suite("Lesson06", .serialized) struct Lesson06 {

    // MARK: 6.1 — recording a node

    @Suite("6.1 record") struct Exercise_6_1 {
        @Test func anOpOnAGradTensorRecordsANode() {
            let a = Tensor([1, 2, 3], requiresGrad: true)
            let b = Tensor([4, 5, 6])
            let c = a * b
            #expect(c.requiresGrad, "a result computed from a tensor that requires grad requires grad too: set result.requiresGrad = true")
            #expect(c.node?.op == "mul", "the result should remember its op \"mul\", got \(String(describing: c.node?.op))")
            #expect(c.node.map { $0.inputs.count == 2 && $0.inputs[0] === a && $0.inputs[1] === b } == true,
                    "the node lists the op's inputs — the very tensors a and b, in order, including b, which needs no grad; got \(c.node.map { "\($0.inputs.count) inputs" } ?? "no node")")
            #expect(c.node?.isFreed == false, "the node must hold the backward rule it was given")
            #expect(!c.isLeaf && a.isLeaf)
        }

        @Test func noGradAndConstantsRecordNothing() {
            let a = Tensor([1, 2], requiresGrad: true)
            let recorded = a + a
            #expect(recorded.node != nil, "a + a with a.requiresGrad should be recorded")
            let inside = noGrad { a + a }
            #expect(inside.node == nil && !inside.requiresGrad, "inside noGrad nothing is recorded")
            let constants = Tensor([1, 2]) + Tensor([3, 4])
            #expect(constants.node == nil && !constants.requiresGrad, "no input requires grad: nothing is recorded")
        }
    }

    // MARK: 6.2 — topological order

    @Suite("6.2 topologicalOrder") struct Exercise_6_2 {
        @Test func inputsComeFirstAndEachOnce() {
            let a = Tensor([1, 2], requiresGrad: true), b = Tensor([3, 4], requiresGrad: true)
            let m = a * b
            let y = (m + a).exp()
            let order = y.topologicalOrder()
            let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
            #expect(order.count == 5 && position.count == 5,
                    "a, b, m = a·b, m + a and y: 5 tensors, each listed once; got \(order.count) entries, \(position.count) distinct")
            for t in order {
                for input in t.node?.inputs ?? [] where input.requiresGrad {
                    #expect((position[ObjectIdentifier(input)] ?? Int.max) < position[ObjectIdentifier(t)]!,
                            "every tensor must come after its inputs: '\(t.node?.op ?? "leaf")' comes before one of its inputs")
                }
            }
            #expect(order.last === y, "the tensor you called topologicalOrder() on comes last")
        }

        @Test func inputsThatNeedNoGradAreLeftOut() {
            let w = Tensor([1, 2], requiresGrad: true), x = Tensor([3, 4])
            let y = (w * x).sum()
            let order = y.topologicalOrder()
            #expect(!order.contains { $0 === x }, "x does not require grad: no gradient flows to it, so it is not in the order — skip inputs that do not require grad")
            #expect(order.count == 3, "w, w·x and the sum: 3 tensors, got \(order.count)")
        }

        @Test func aLongChainDoesNotOverflowTheStack() {
            var x = Tensor([0], requiresGrad: true)
            let leaf = x
            for _ in 0..<50_000 { x = x + 1 }
            // A crash gives no expectation message, so say it before the deep call.
            FileHandle.standardError.write(Data(("Exercise 6.2: ordering a chain of 50,000 additions. If the process crashes here, "
                + "a recursive topological sort overflowed the stack; use an explicit stack (Lessons/06-tensor-autograd.md).\n").utf8))
            let order = x.topologicalOrder()
            #expect(order.count == 50_001, "a chain of 50,000 additions: 50,001 tensors, got \(order.count)")
            #expect(order.first === leaf, "the leaf comes first: every tensor after its inputs")
            #expect(order.last === x, "the tensor you called topologicalOrder() on comes last")
        }
    }

    // MARK: 6.3 — accumulating a leaf's gradient

    @Suite("6.3 accumulateGrad") struct Exercise_6_3 {
        @Test func theFirstGradientIsAPrivateCopy() {
            let x = Tensor([1, 2, 3], requiresGrad: true)
            let g = Tensor([10, 20, 30])
            x.accumulateGrad(g)
            #expect(x.grad?.toArray() == [10, 20, 30], "x.grad should be [10, 20, 30], got \(show(x.grad))")
            g.addInPlace(Tensor([1, 1, 1]))
            #expect(x.grad?.toArray() == [10, 20, 30],
                    "changing g afterwards changed x.grad to \(show(x.grad)): store a copy of g (g.copy()), not g itself — backward passes the same tensor to several inputs (and g.contiguous() is not a copy: it returns g itself when g is contiguous)")
        }

        @Test func laterGradientsAdd() {
            let x = Tensor([1, 2], requiresGrad: true)
            x.accumulateGrad(Tensor([1, 1]))
            x.accumulateGrad(Tensor([2, 3]))
            #expect(x.grad?.toArray() == [3, 4], "gradients accumulate: [1, 1] + [2, 3] = [3, 4], got \(show(x.grad))\(x.grad?.toArray() == [2, 3] ? " — the second gradient replaced the first: add it into the existing one (existing.addInPlace(g))" : "")")
        }
    }

    // MARK: 6.4 — un-broadcasting

    @Suite("6.4 sumToShape") struct Exercise_6_4 {
        @Test func leadingAxesAreSummedAway() {
            let g = Tensor.ones([4, 3]).sumToShape([3])
            #expect(g.shape == [3] && g.toArray() == [4, 4, 4],
                    "a [3] input broadcast to [4, 3] was read 4 times: [4, 4, 4] of shape [3], got \(show(g))\(g.shape == [1, 3] ? " — keepdim left the summed leading axis as a 1: reshape the sum to target" : "")")
        }

        @Test func sizeOneAxesAreSummedAndKept() {
            let g = Tensor.arange(6).reshaped([2, 3]).sumToShape([2, 1])
            #expect(g.shape == [2, 1] && g.toArray() == [3, 12], "rows of [[0, 1, 2], [3, 4, 5]] summed, keeping the axis: [[3], [12]], got \(show(g))")
            let h = Tensor.ones([2, 3, 4]).sumToShape([3, 1])
            #expect(h.shape == [3, 1] && h.toArray() == [8, 8, 8], "[2, 3, 4] → [3, 1]: sum axis 0 (absent) and axis 2 (size 1): 8 each, got \(show(h))")
        }

        @Test func theSameShapeIsLeftAlone() {
            let g = Tensor([1, 2, 3, 4], shape: [2, 2])
            #expect(g.sumToShape([2, 2]).toArray() == [1, 2, 3, 4], "nothing was broadcast: the gradient is unchanged")
        }
    }

    // MARK: 6.5 — backward

    @Suite("6.5 backward") struct Exercise_6_5 {
        @Test func additionBroadcastAndSum() {
            let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], requiresGrad: true)
            let b = Tensor([10, 20, 30], requiresGrad: true)
            (a + b).sum().backward()
            #expect(a.grad?.toArray() == [1, 1, 1, 1, 1, 1], "∂Σ(a + b)/∂a is 1 everywhere, got \(show(a.grad))\(a.grad == nil ? " — no gradient reached the leaves: walk order.reversed(), from the output back to the leaves" : "")")
            #expect(b.grad?.toArray() == [2, 2, 2] && b.grad?.shape == [3],
                    "b was broadcast over 2 rows: its gradient is 2 everywhere, shape [3]; got \(show(b.grad))")
        }

        @Test func aTensorUsedTwiceGetsBothContributions() {
            let x = Tensor([1, 2], requiresGrad: true)
            let y = x.exp()
            (y + y - x).sum().backward()
            let expected = [2 * Float(M_E) - 1, 2 * Float(M_E * M_E) - 1]
            #expect(x.grad.map { close($0.toArray(), expected) } == true,
                    "y = eˣ is used twice, so ∂/∂x Σ(y + y − x) = 2eˣ − 1 = \(expected); got \(show(x.grad)) — gradients arriving at one tensor must be added")
        }

        @Test func aGradientSharedByTwoInputsIsNeverChangedInPlace() {
            // `a + b` hands the same gradient tensor to a and to b; a then receives a second share.
            let a = Tensor([1, 2], requiresGrad: true), b = Tensor([3, 4], requiresGrad: true)
            let v = (a + b) + a
            v.backward(Tensor([1, 1]))
            #expect(a.grad?.toArray() == [2, 2], "a is used twice: ∂v/∂a = 2, got \(show(a.grad))")
            #expect(b.grad?.toArray() == [1, 1],
                    "∂v/∂b = 1, got \(show(b.grad))\(b.grad?.toArray() == [2, 2] ? " — a's second share was added in place into a tensor b had received too: add with +, which makes a new tensor, never with addInPlace" : "")")
        }

        @Test func leavesAccumulateAcrossBackwardCalls() {
            let w = Tensor([1, 2, 3], requiresGrad: true)
            (w * 2).sum().backward()
            (w * 2).sum().backward()
            #expect(w.grad?.toArray() == [4, 4, 4], "two backward() calls add: 2 + 2 = 4 everywhere, got \(show(w.grad))")
            w.zeroGrad()
            (w - 1).sum().backward()
            #expect(w.grad?.toArray() == [1, 1, 1], "after zeroGrad() one pass: 1 everywhere, got \(show(w.grad))")
        }

        @Test func theGradientHasNoHistory() {
            let x = Tensor([1, 2, 4], requiresGrad: true)
            x.log().sum().backward()
            #expect(x.grad.map { close($0.toArray(), [1, 0.5, 0.25]) } == true, "∂Σ log x/∂x = 1/x, got \(show(x.grad))")
            #expect(x.grad?.requiresGrad == false && x.grad?.node == nil,
                    "the backward rules ran with recording on: run them inside noGrad { … } so gradients carry no graph")
        }
    }

    // MARK: 6.6 — product rule

    @Suite("6.6 mulBackward") struct Exercise_6_6 {
        @Test func eachFactorGetsTheOther() {
            let a = Tensor([1, 2, 3], requiresGrad: true), b = Tensor([4, 5, 6], requiresGrad: true)
            (a * b).sum().backward()
            #expect(a.grad?.toArray() == [4, 5, 6], "∂Σab/∂a = b, got \(show(a.grad))\(a.grad?.toArray() == [1, 2, 3] ? " — each factor gets the other: a's gradient is g * b" : "")\(whereItGoesWrong { (a * b).sum() })")
            #expect(b.grad?.toArray() == [1, 2, 3], "∂Σab/∂b = a, got \(show(b.grad))\(whereItGoesWrong { (a * b).sum() })")
        }

        @Test func theUpstreamGradientScalesEachShare() {
            // Under a sum, g is all ones and a rule that drops it still passes; under a square it is 2ab.
            let a = Tensor([1, 2, 3], requiresGrad: true), b = Tensor([4, 5, 6], requiresGrad: true)
            (a * b).pow(2).sum().backward()
            #expect(a.grad?.toArray() == [32, 100, 216],
                    "∂Σ(ab)²/∂a = 2ab · b, got \(show(a.grad))\(a.grad?.toArray() == [4, 5, 6] ? " — the upstream gradient g was left out: a's gradient is g * b, not b" : "")\(whereItGoesWrong { (a * b).pow(2).sum() })")
            #expect(b.grad?.toArray() == [8, 40, 108], "∂Σ(ab)²/∂b = 2ab · a, got \(show(b.grad))\(whereItGoesWrong { (a * b).pow(2).sum() })")
        }

        @Test func broadcastFactors() {
            let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], requiresGrad: true)
            let s = Tensor([2, 3], shape: [2, 1], requiresGrad: true)
            (a * s).sum().backward()
            #expect(a.grad?.toArray() == [2, 2, 2, 3, 3, 3], "∂/∂a = s, broadcast: got \(show(a.grad))\(whereItGoesWrong { (a * s).sum() })")
            #expect(s.grad?.shape == [2, 1] && s.grad?.toArray() == [6, 15],
                    "s [2, 1] was stretched over 3 columns: its gradient sums a over each row, [[6], [15]]; got \(show(s.grad))\(whereItGoesWrong { (a * s).sum() })")
        }

        @Test func xTimesX() {
            let x = Tensor([3, -1], requiresGrad: true)
            (x * x).sum().backward()
            #expect(x.grad?.toArray() == [6, -2], "∂x²/∂x = 2x, got \(show(x.grad))\(whereItGoesWrong { (x * x).sum() })")
        }
    }

    // MARK: 6.7 — quotient rule

    @Suite("6.7 divBackward") struct Exercise_6_7 {
        @Test func numeratorAndDenominator() {
            let a = Tensor([1, 2], requiresGrad: true), b = Tensor([2, 4], requiresGrad: true)
            (a / b).sum().backward()
            #expect(a.grad.map { close($0.toArray(), [0.5, 0.25]) } == true, "∂(a/b)/∂a = 1/b, got \(show(a.grad))\(whereItGoesWrong { (a / b).sum() })")
            #expect(b.grad.map { close($0.toArray(), [-0.25, -0.125]) } == true, "∂(a/b)/∂b = −a/b², got \(show(b.grad))\(b.grad.map { close($0.toArray(), [0.25, 0.125]) } == true ? " — the sign is wrong: b's gradient is −g·a/b²" : "")\(whereItGoesWrong { (a / b).sum() })")
        }

        @Test func aBroadcastDenominator() {
            let a = Tensor([2, 4, 6, 8], shape: [2, 2], requiresGrad: true), b = Tensor([2], requiresGrad: true)
            (a / b).sum().backward()
            #expect(b.grad.map { $0.shape == [1] && close($0.toArray(), [-5]) } == true,
                    "b [1] divides all four elements: Σ −a/b² = −20/4 = −5, shape [1]; got \(show(b.grad))\(whereItGoesWrong { (a / b).sum() })")
        }
    }

    // MARK: 6.8 — tanh

    @Suite("6.8 tanh backward") struct Exercise_6_8 {
        @Test func oneMinusTheOutputSquared() {
            let xs: [Float] = [-2, -0.5, 0, 0.5, 2]
            let x = Tensor(xs, requiresGrad: true)
            x.tanh().sum().backward()
            let expected = xs.map { 1 - tanhf($0) * tanhf($0) }
            #expect(x.grad.map { close($0.toArray(), expected) } == true, "d tanh/dx = 1 − tanh²(x) = \(expected), got \(show(x.grad))\(whereItGoesWrong { x.tanh().sum() })")
        }

        @Test func timesTheIncomingGradient() {
            let x = Tensor([0.5, -1], requiresGrad: true)
            (x.tanh() * Tensor([2, 3])).sum().backward()
            let local = [0.5, -1].map { 1 - tanhf(Float($0)) * tanhf(Float($0)) }
            let expected = [2 * local[0], 3 * local[1]]
            #expect(x.grad.map { close($0.toArray(), expected) } == true,
                    "g = [2, 3] times 1 − tanh²(x): \(expected), got \(show(x.grad))\(x.grad.map { close($0.toArray(), local) } == true ? " — the rule must multiply by the incoming gradient g" : "")\(whereItGoesWrong { (x.tanh() * Tensor([2, 3])).sum() })")
        }
    }

    // MARK: 6.9 — relu

    @Suite("6.9 relu backward") struct Exercise_6_9 {
        @Test func theGradientPassesWhereTheInputWasPositive() {
            let x = Tensor([-2, -0.5, 0, 0.5, 2], requiresGrad: true)
            (x.relu() * Tensor([1, 2, 3, 4, 5])).sum().backward()
            #expect(x.grad?.toArray() == [0, 0, 0, 4, 5],
                    "relu passes g where x > 0 and blocks it elsewhere (0 at x = 0, as in PyTorch): expected [0, 0, 0, 4, 5], got \(show(x.grad))\(x.grad?.toArray() == [0, 0, 0, 1, 1] ? " — pass g itself where x > 0, not 1" : "")\(whereItGoesWrong { (x.relu() * Tensor([1, 2, 3, 4, 5])).sum() })")
        }
    }

    // MARK: 6.10 — matmul

    @Suite("6.10 matmulBackward") struct Exercise_6_10 {
        @Test func gradientsOfAMatrixProduct() {
            let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], requiresGrad: true)
            let b = Tensor([1, 0, 0, 1, 1, 1], shape: [3, 2], requiresGrad: true)
            a.matmul(b).sum().backward()
            // G is all ones: ∂/∂A = G·Bᵀ (row sums of B), ∂/∂B = Aᵀ·G (column sums of A, repeated).
            #expect(a.grad?.toArray() == [1, 1, 2, 1, 1, 2], "∂/∂A = G·Bᵀ: every row is B's row sums [1, 1, 2]; got \(show(a.grad))\(whereItGoesWrong { a.matmul(b).sum() })")
            #expect(b.grad?.toArray() == [5, 5, 7, 7, 9, 9], "∂/∂B = Aᵀ·G: row p is A's column p summed, [5, 7, 9]; got \(show(b.grad))\(whereItGoesWrong { a.matmul(b).sum() })")
        }

        @Test func squareFactors() {
            let a = Tensor([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
            let b = Tensor([5, 6, 7, 8], shape: [2, 2], requiresGrad: true)
            (a.matmul(b) * Tensor([1, 2, 3, 4], shape: [2, 2])).sum().backward()  // G = [[1, 2], [3, 4]]
            #expect(a.grad?.toArray() == [17, 23, 39, 53],
                    "∂/∂A = G·Bᵀ = [[17, 23], [39, 53]], got \(show(a.grad))\(a.grad?.toArray() == [19, 22, 43, 50] ? " — that is G·B: use G·Bᵀ, g.matmul(b.transposed())" : "")\(whereItGoesWrong { (a.matmul(b) * Tensor([1, 2, 3, 4], shape: [2, 2])).sum() })")
            #expect(b.grad?.toArray() == [10, 14, 14, 20],
                    "∂/∂B = Aᵀ·G = [[10, 14], [14, 20]], got \(show(b.grad))\(b.grad?.toArray() == [7, 10, 15, 22] ? " — that is A·G: use Aᵀ·G, a.transposed().matmul(g)" : "")\(whereItGoesWrong { (a.matmul(b) * Tensor([1, 2, 3, 4], shape: [2, 2])).sum() })")
        }

        @Test func aSharedWeightInABatch() {
            let x = Tensor.ones([4, 2, 3], requiresGrad: true)
            let w = Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2], requiresGrad: true)
            x.matmul(w).sum().backward()
            #expect(w.grad?.shape == [3, 2] && w.grad?.toArray() == [8, 8, 8, 8, 8, 8],
                    "w [3, 2] serves 4 batch entries of 2 rows: its gradient is summed back over the batch, 8 everywhere, shape [3, 2]; got \(show(w.grad))\(whereItGoesWrong { x.matmul(w).sum() })")
            #expect(x.grad?.shape == [4, 2, 3] && x.grad.map { $0.toArray().prefix(3) == [3, 7, 11] } == true,
                    "∂/∂x = G·wᵀ: each row is w's row sums [3, 7, 11]; got \(show(x.grad))\(whereItGoesWrong { x.matmul(w).sum() })")
        }
    }

    // MARK: Milestone — a network learns, and nothing leaks

    @Suite("Milestone: your autograd trains a network") struct Milestone {
        @Test func aTwoLayerNetworkFitsXOR() {
            let x = Tensor([0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2])
            let y = Tensor([0, 1, 1, 0], shape: [4, 1])
            let (w1, w2) = withSeed(6) { (Tensor.randn([2, 8], requiresGrad: true), Tensor.randn([8, 1], requiresGrad: true)) }
            let b1 = Tensor.zeros([8], requiresGrad: true), b2 = Tensor.zeros([1], requiresGrad: true)
            let parameters = [w1, b1, w2, b2]
            func predict() -> Tensor { (x.matmul(w1) + b1).tanh().matmul(w2) + b2 }
            var loss = Float.infinity
            for _ in 0..<500 {
                let diff = predict() - y
                let l = (diff * diff).mean()
                for p in parameters { p.zeroGrad() }
                l.backward()
                noGrad { for p in parameters { p.addInPlace(p.grad!, scale: -0.1) } }
                loss = l.item()
            }
            #expect(loss < 0.01, "after 500 steps of gradient descent the loss should be below 0.01, got \(loss)")
            let predictions = noGrad { predict() }.toArray()
            #expect(zip(predictions, [0, 1, 1, 0] as [Float]).allSatisfy { Swift.abs($0 - $1) < 0.2 },
                    "XOR predictions should be close to [0, 1, 1, 0], got \(predictions)")
        }

        @Test func aDroppedGraphLeavesNoTensorBehind() {
            weak var weakHidden: Tensor?
            weak var weakLoss: Tensor?
            let w = Tensor.randn([3, 3], requiresGrad: true)
            do {
                // A forward pass that is never used: the graph must go away with it.
                let hidden = Tensor.randn([2, 3]).matmul(w).tanh().relu()
                let loss = (hidden * hidden / (hidden + 2)).sum()
                weakHidden = hidden
                weakLoss = loss
            }
            #expect(weakHidden == nil && weakLoss == nil,
                    "a graph nobody holds should be freed, but a tensor of it is still alive: does a backward rule capture the op's own output (a retain cycle)? Save out.detach() instead")
            do {
                let loss = Tensor.randn([2, 3]).matmul(w).tanh().sum()
                weakLoss = loss
                loss.backward()
            }
            #expect(weakLoss == nil && w.grad != nil, "after backward() the graph should be freed too")
        }
    }
}
