import Foundation
import Testing
import Kindling

// Lesson 1 — scalar autograd (Lessons/01-scalar-autograd.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson01           all of lesson 1
//     swift test --filter Exercise_1_3       one exercise
//
// The suites run in order, one exercise after another. An exercise that is not
// written yet stops the run with "Exercise 1.x is not done yet" — that is the
// next one to do. Each exercise's tests use only that exercise and earlier ones.

/// |a − b| ≤ tolerance · max(1, |b|).
private func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    Swift.abs(a - b) <= tolerance * Swift.max(1, Swift.abs(b))
}

/// The C library's tanh, to check exercise 1.2 against.
private func referenceTanh(_ x: Double) -> Double { Foundation.tanh(x) }

@Suite("Lesson01", .serialized) struct Lesson01 {

    // MARK: 1.1 — multiplication

    @Suite("1.1 multiplication") struct Exercise_1_1 {
        @Test func productAndLocalDerivatives() {
            let a = Value(2), b = Value(-3)
            let c = a * b
            #expect(c.data == -6, "2 · (−3) should be −6")
            #expect(c.localGrads == [-3, 2],
                    "∂(a·b)/∂a is b.data (−3) and ∂(a·b)/∂b is a.data (2), in the order of `inputs`; got \(c.localGrads)\(c.localGrads == [2, -3] ? " — the two local derivatives are swapped: a's is b.data, b's is a.data" : "")")
        }

        @Test func recordsItsInputsAndOp() {
            let a = Value(4), b = Value(0.5)
            let c = a * b
            #expect(c.inputs.count == 2 && c.inputs[0] === a && c.inputs[1] === b,
                    "`inputs` should be [a, b] — the very objects multiplied, in order")
            #expect(c.op == "*", "the op name should be \"*\", got \"\(c.op)\"")
            #expect(!c.isLeaf)
            #expect(a.data == 4 && b.data == 0.5 && a.grad == 0 && b.grad == 0,
                    "multiplying must not change the operands")
        }

        @Test func mixesWithPlainNumbers() {
            let x = Value(3)
            #expect((x * 2).data == 6)
            #expect((2 * x).data == 6)
            let grads = (x * 2).localGrads
            #expect(grads == [2, 3], "x · 2: ∂/∂x is the other operand, 2, and ∂/∂2 is x.data, 3, in the order of `inputs`; got \(grads)\(grads == [3, 2] ? " — the two local derivatives are swapped: a's is b.data, b's is a.data" : "")")
        }
    }

    // MARK: 1.2 — tanh

    @Suite("1.2 tanh") struct Exercise_1_2 {
        @Test(arguments: [0.0, 0.5, -0.5, 1.0, -2.0, 3.0])
        func valueAndLocalDerivative(x: Double) {
            let y = Value(x).tanh()
            let expected = referenceTanh(x)
            #expect(close(y.data, expected), "tanh(\(x)) should be \(expected), got \(y.data)")
            let fromInput = y.localGrads.count == 1 && x != 0 && close(y.localGrads[0], 1 - x * x)
            #expect(y.localGrads.count == 1 && close(y.localGrads[0], 1 - expected * expected),
                    "∂tanh(x)/∂x is 1 − tanh²(x) = \(1 - expected * expected), got \(y.localGrads)\(fromInput ? " — that is 1 − x², from the input: write it with the output t, 1 − t²" : "")")
            #expect(y.op == "tanh")
        }

        @Test func staysFiniteForLargeInputs() {
            for x in [30.0, -30.0, 800.0, -800.0] {
                let y = Value(x).tanh()
                #expect(y.data.isFinite && Swift.abs(Swift.abs(y.data) - 1) < 1e-12,
                        "tanh(\(x)) should be \(x > 0 ? 1 : -1), got \(y.data) — (e²ˣ−1)/(e²ˣ+1) overflows to ∞/∞ = NaN; see the hint in the lesson")
                #expect(y.localGrads.first.map { $0.isFinite && Swift.abs($0) < 1e-12 } == true,
                        "the derivative of tanh at \(x) should be ≈ 0, got \(y.localGrads)")
            }
        }
    }

    // MARK: 1.3 — topological order

    @Suite("1.3 topological order") struct Exercise_1_3 {
        /// True when every value comes after all of its inputs, each value once, `root` last.
        private func isTopological(_ order: [Value], root: Value) -> Bool {
            var seen = Set<ObjectIdentifier>()
            for v in order {
                guard v.inputs.allSatisfy({ seen.contains(ObjectIdentifier($0)) }) else { return false }
                guard seen.insert(ObjectIdentifier(v)).inserted else { return false }
            }
            return order.last === root
        }

        @Test func aLeafIsItsOwnOrder() {
            let a = Value(1)
            let order = a.topologicalOrder()
            #expect(order.count == 1 && order[0] === a)
        }

        @Test func chainComesOutInputsFirst() {
            let a = Value(2), b = Value(-3), one = Value(1)
            let m = a * b
            let c = m + one
            let order = c.topologicalOrder()
            #expect(order.count == 5, "the graph of (a * b) + 1 has 5 values, got \(order.count)")
            #expect(isTopological(order, root: c),
                    "each value must come after all of its inputs, once, with c last; got ops \(order.map { $0.op.isEmpty ? "leaf" : $0.op })\(order.first === c ? " — c came first: append a value only when it comes back marked inputsDone, after its inputs" : "")")
            #expect(order.firstIndex { $0 === m }! < order.firstIndex { $0 === c }!)
        }

        @Test func sharedValuesAppearOnce() {
            // A diamond: x feeds two values that meet again in z.
            let x = Value(3)
            let p = x * x, q = x + x
            let z = p + q
            let order = z.topologicalOrder()
            #expect(order.count == 4, "x, x*x, x+x and z: 4 values, each once; got \(order.count)\(order.count > 4 ? " — a value reached twice was appended twice: skip values already visited (a Set<ObjectIdentifier>)" : "")")
            #expect(isTopological(order, root: z))
        }

        @Test func hundredThousandDeepChainWithoutRecursion() {
            var v = Value(0)
            for _ in 0..<100_000 { v = v + 1 }
            // A crash gives no expectation message, so say it before the deep call.
            FileHandle.standardError.write(Data(("Exercise 1.3: ordering a chain 100,000 values deep. If the process crashes here, "
                + "a recursive topological sort overflowed the stack; use an explicit stack (Lessons/01-scalar-autograd.md).\n").utf8))
            let order = v.topologicalOrder()
            #expect(order.count == 200_001, "100,000 sums and their 100,001 operands: 200,001 values, got \(order.count)")
            #expect(order.last === v, "the value itself comes last")
        }
    }

    // MARK: 1.4 — one chain-rule step

    @Suite("1.4 one chain-rule step") struct Exercise_1_4 {
        @Test func sendsLocalTimesOwnGradient() {
            let a = Value(2), b = Value(-3)
            let c = a * b
            c.grad = 5
            c.propagateGrad()
            #expect(a.grad == -15, "a receives ∂c/∂a · c.grad = (−3) · 5 = −15, got \(a.grad)\(a.grad == 5 ? " — that is c.grad alone: multiply it by the local derivative" : "")")
            #expect(b.grad == 10, "b receives ∂c/∂b · c.grad = 2 · 5 = 10, got \(b.grad)")
            #expect(c.grad == 5, "propagateGrad must not change the value's own gradient")
        }

        @Test func addsToWhatIsAlreadyThere() {
            let a = Value(1), b = Value(1)
            let c = a - b
            a.grad = 0.5
            c.grad = 2
            c.propagateGrad()
            #expect(a.grad == 2.5, "gradients add up: 0.5 already there + 1 · 2 = 2.5, got \(a.grad) — use +=, not =")
            #expect(b.grad == -2)
        }
    }

    // MARK: 1.5 — backward

    @Suite("1.5 backward") struct Exercise_1_5 {
        @Test func theExampleFromTheLesson() {
            let a = Value(2), b = Value(-3)
            let c = a * b + 1
            c.backward()
            #expect(c.grad == 1, "backward() seeds ∂c/∂c = 1 with grad += 1, got c.grad = \(c.grad)")
            #expect(a.grad == -3, "∂c/∂a = b = −3, got \(a.grad)\(a.grad == 0 && c.grad == 1 ? " — a value passed its gradient on before it had arrived: walk order.reversed(), from c back to the leaves" : "")")
            #expect(b.grad == 2, "∂c/∂b = a = 2, got \(b.grad)")
        }

        @Test func aValueUsedTwice() {
            let x = Value(3)
            let y = x * x  // x²
            y.backward()
            #expect(x.grad == 6, "∂(x·x)/∂x = 2x = 6, got \(x.grad)\(x.grad == 3 ? " — one use overwrote the other: add with +=" : "")")
        }

        @Test func agreesWithFiniteDifferences() {
            func f(_ a: Value, _ b: Value) -> Value {
                let h = (a * b + a.tanh()) / (b - 0.5)
                return h * h + b.exp()
            }
            let a = Value(0.7), b = Value(-1.3)
            f(a, b).backward()
            let eps = 1e-6
            let dA = (f(Value(0.7 + eps), Value(-1.3)).data - f(Value(0.7 - eps), Value(-1.3)).data) / (2 * eps)
            let dB = (f(Value(0.7), Value(-1.3 + eps)).data - f(Value(0.7), Value(-1.3 - eps)).data) / (2 * eps)
            #expect(close(a.grad, dA, 1e-6), "∂f/∂a: backward gave \(a.grad), finite differences give \(dA)")
            #expect(close(b.grad, dB, 1e-6), "∂f/∂b: backward gave \(b.grad), finite differences give \(dB)")
        }

        @Test func leavesAccumulateAcrossCalls() {
            let w = Value(2)
            let y = w * w * 3  // 3w², dy/dw = 12
            y.backward()
            y.backward()
            let cause = w.grad > 24 ? " — computed values kept their gradient from the first call and passed it on again: set every non-leaf grad to 0 before seeding"
                : w.grad == 12 ? " — the leaf lost its first gradient: leaves keep accumulating, reset only computed (non-leaf) values" : ""
            #expect(w.grad == 24, "two backward() calls add two gradients on a leaf: 12 + 12 = 24, got \(w.grad)\(cause)")
            w.grad = 0
            y.backward()
            #expect(w.grad == 12, "after zeroing the leaf, one more backward() gives 12, got \(w.grad)")
        }

        @Test func aLeafAccumulatesItsOwnSeed() {
            let w = Value(5)
            w.backward()
            w.backward()
            #expect(w.grad == 2, "∂w/∂w = 1 per call, and a leaf accumulates: 2 after two calls, got \(w.grad)\(w.grad == 1 ? " — the seed overwrote the leaf's gradient: seed with grad += 1, not grad = 1" : "")")
        }
    }

    // MARK: Milestone — fit a tiny neuron

    // The end of lesson 1: your `Value` trains a neuron by gradient descent.
    @Suite("Milestone: a tiny neuron learns") struct TinyNeuron {
        @Test func lossFalls() {
            // Four points, two features, targets ±1 — the same neuron as the lesson's.
            let xs: [[Double]] = [[2, 3], [3, -1], [-0.5, -2], [-1, 1.5]]
            let ys: [Double] = [1, -1, -1, 1]
            let w = [Value(0.3), Value(-0.4)], b = Value(0.1)
            func loss() -> Value {
                var total = Value(0)
                for (x, y) in zip(xs, ys) {
                    let out = (w[0] * x[0] + w[1] * x[1] + b).tanh()
                    let diff = out - y
                    total = total + diff * diff
                }
                return total
            }
            let first = loss().data
            var last = first
            for _ in 0..<60 {
                let l = loss()
                for p in w + [b] { p.grad = 0 }
                l.backward()
                for p in w + [b] { p.data -= 0.05 * p.grad }
                last = l.data
            }
            #expect(last < first / 100, "the loss should fall a lot in 60 steps: first \(first), last \(last)")
            let predictions = xs.map { x in (w[0] * x[0] + w[1] * x[1] + b).tanh().data }
            for (p, y) in zip(predictions, ys) {
                #expect(p * y > 0, "after training every prediction should have its target's sign: predicted \(p) for \(y)")
            }
        }
    }
}
