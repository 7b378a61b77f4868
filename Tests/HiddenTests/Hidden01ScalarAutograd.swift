import Foundation
import Testing
import Kindling

// Hidden tests of lesson 1 (scalar autograd). The grader maps each test to its
// exercise by the suite name `Exercise_1_N`; each suite uses only its own
// exercise and earlier ones. They probe what the visible tests do not: values
// used twice, diamonds, extreme inputs, graphs 100,000 values deep, repeated
// backward passes. Messages say what was expected, what came back and, for a
// known mistake, what it usually means.

/// |a − b| ≤ tolerance · max(1, |b|).
private func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    Swift.abs(a - b) <= tolerance * Swift.max(1, Swift.abs(b))
}

/// The ops of a list of values, leaves shown as "leaf", for messages.
private func ops(_ values: [Value]) -> String {
    let names = values.prefix(12).map { $0.op.isEmpty ? "leaf" : $0.op }
    return "[" + names.joined(separator: ", ") + (values.count > 12 ? ", …]" : "]")
}

/// Why `order` is not a topological order of `root`'s graph, or nil when it is.
private func topologicalProblem(_ order: [Value], root: Value) -> String? {
    var seen = Set<ObjectIdentifier>()
    for (i, v) in order.enumerated() {
        if let missing = v.inputs.firstIndex(where: { !seen.contains(ObjectIdentifier($0)) }) {
            return "position \(i) (op \(v.op.isEmpty ? "leaf" : v.op)) comes before its input #\(missing) — every value must come after all of its inputs"
        }
        if !seen.insert(ObjectIdentifier(v)).inserted {
            return "position \(i) (op \(v.op.isEmpty ? "leaf" : v.op)) is listed a second time — a value reached along two paths must appear once (keep a visited set)"
        }
    }
    if order.last !== root { return "the value you called topologicalOrder() on must come last" }
    return nil
}

/// Every value reachable from `root` (including it), found by the test itself.
private func reachable(from root: Value) -> Set<ObjectIdentifier> {
    var seen: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
    var stack = [root]
    while let v = stack.popLast() {
        for input in v.inputs where seen.insert(ObjectIdentifier(input)).inserted { stack.append(input) }
    }
    return seen
}

// MARK: - 1.1 multiplication

@Suite struct Exercise_1_1 {
    @Test func productOfNegativesAndZero() {
        let a = Value(-1.5), b = Value(0)
        let c = a * b
        #expect(c.data == 0, "−1.5 · 0 should be 0, got \(c.data)")
        #expect(c.localGrads == [0, -1.5], "expected localGrads [b.data, a.data] = [0, −1.5], got \(c.localGrads)")
        #expect(c.op == "*", "expected op \"*\", got \"\(c.op)\"")
    }

    @Test func localDerivativesInTheOrderOfInputs() {
        let a = Value(5), b = Value(7)
        let c = a * b
        #expect(c.inputs.count == 2 && c.inputs.first === a && c.inputs.last === b,
                "expected inputs [a, b] (the operands themselves, in order), got \(c.inputs.count) inputs \(c.inputs.map(\.data))")
        let hint = c.localGrads == [5, 7] ? " — swapped: ∂(a·b)/∂a is b, the *other* operand" : ""
        #expect(c.localGrads == [7, 5], "expected localGrads [7, 5], got \(c.localGrads)\(hint)")
    }

    @Test func squareOfOneValue() {
        let a = Value(-4)
        let c = a * a
        #expect(c.data == 16, "(−4)·(−4) should be 16, got \(c.data)")
        #expect(c.inputs.count == 2 && c.inputs.allSatisfy { $0 === a },
                "a * a must list a twice in inputs (one entry per operand), got \(c.inputs.count) inputs")
        #expect(c.localGrads == [-4, -4], "expected localGrads [−4, −4], got \(c.localGrads)")
    }

    @Test func operandsAreLeftAlone() {
        let a = Value(1.25), b = Value(-8)
        let p = a + b
        let c = p * b
        #expect(a.data == 1.25 && b.data == -8 && p.data == -6.75, "multiplying must not change the operands' data")
        #expect(a.grad == 0 && b.grad == 0 && p.grad == 0 && c.grad == 0,
                "a new value starts with grad 0 and its operands keep theirs")
        #expect(p.inputs.count == 2 && p.inputs[0] === a, "multiplying must not change the operands' inputs")
        #expect(c.data == 54 && c.localGrads == [-8, -6.75],
                "(a + b) · b with a = 1.25, b = −8: expected data 54 and localGrads [−8, −6.75], got \(c.data) and \(c.localGrads)")
        #expect(c.inputs.count == 2 && c.inputs[0] === p && c.inputs[1] === b,
                "inputs must be the computed value p and b, not copies")
    }

    @Test func exactProductsOfDoubles() {
        var g = SeededGenerator(seed: 11)
        for _ in 0..<200 {
            let x = Double.random(in: -1e3...1e3, using: &g), y = Double.random(in: -1e3...1e3, using: &g)
            let c = Value(x) * Value(y)
            let ok = c.data == x * y && c.localGrads == [y, x]
            #expect(ok, "Value(\(x)) * Value(\(y)): expected data \(x * y), localGrads [\(y), \(x)]; got \(c.data), \(c.localGrads)")
            if !ok { return }  // one failing case is enough to read
        }
    }
}

// MARK: - 1.2 tanh

@Suite struct Exercise_1_2 {
    @Test(arguments: [50.0, -50.0, 400.0, -400.0, 1e6, -1e6])
    func largeInputsSaturate(x: Double) {
        let y = Value(x).tanh()
        let expected: Double = x > 0 ? 1 : -1
        let hint = y.data.isNaN ? " — NaN: e²ˣ overflowed to ∞ and ∞/∞ is NaN; use a form that only exponentiates −2|x| (see stableTanh) or Glibc.tanh" : ""
        #expect(y.data == expected, "tanh(\(x)) should be \(expected), got \(y.data)\(hint)")
        #expect(y.localGrads.count == 1 && y.localGrads[0] == 0,
                "the local derivative 1 − tanh²(\(x)) should be 0, got \(y.localGrads)")
    }

    @Test(arguments: [1e-8, -1e-8, 1e-12, 3e-5])
    func tinyInputsKeepTheirDigits(x: Double) {
        let y = Value(x).tanh()
        let expected = Foundation.tanh(x)
        let hint = y.data == 0 ? " — exactly 0: (e²ˣ − 1) cancelled; use expm1, or Glibc.tanh" : " — (e²ˣ − 1) loses digits near 0; use expm1 (see stableTanh) or Glibc.tanh"
        #expect(Swift.abs(y.data - expected) <= 1e-12 * Swift.abs(expected),
                "tanh(\(x)) should be \(expected) to 12 significant digits, got \(y.data)\(hint)")
        #expect(y.localGrads.count == 1 && close(y.localGrads[0], 1, 1e-9),
                "the local derivative at \(x) should be ≈ 1, got \(y.localGrads)")
    }

    @Test func matchesTheCLibrary() {
        var g = SeededGenerator(seed: 12)
        for _ in 0..<500 {
            let x = Double.random(in: -8...8, using: &g)
            let y = Value(x).tanh()
            let t = Foundation.tanh(x)
            let valueOK = close(y.data, t, 1e-12)
            let gradOK = y.localGrads.count == 1 && close(y.localGrads[0], 1 - t * t, 1e-12)
            #expect(valueOK, "tanh(\(x)) should be \(t), got \(y.data)")
            #expect(gradOK, "∂tanh/∂x at \(x) should be 1 − tanh² = \(1 - t * t), got \(y.localGrads)\(y.localGrads.first.map { close($0, 1 - x * x, 1e-9) } == true ? " — that is 1 − x²: square the *output* t, not the input" : "")")
            if !(valueOK && gradOK) { return }  // one failing case is enough to read
        }
    }

    @Test func isOdd() {
        for x in [0.1, 0.7, 1.5, 4.0, 19.0] {
            let p = Value(x).tanh().data, n = Value(-x).tanh().data
            #expect(Swift.abs(p + n) <= 1e-15, "tanh(−x) should be −tanh(x): tanh(\(x)) = \(p), tanh(\(-x)) = \(n)")
        }
        #expect(Value(0).tanh().data == 0, "tanh(0) should be 0")
    }

    @Test func recordsItsInput() {
        let x = Value(0.3)
        let y = x.tanh()
        #expect(y.inputs.count == 1 && y.inputs[0] === x, "tanh has one input, the value it was called on")
        #expect(y.op == "tanh", "expected op \"tanh\", got \"\(y.op)\"")
        #expect(x.data == 0.3 && x.grad == 0, "tanh must not change its input")
    }

    @Test func localDerivativeMatchesFiniteDifferences() {
        for x in [-2.5, -0.9, 0.2, 1.1, 3.3] {
            let h = 1e-6
            let numeric = (Value(x + h).tanh().data - Value(x - h).tanh().data) / (2 * h)
            let local = Value(x).tanh().localGrads.first ?? .nan
            #expect(close(local, numeric, 1e-7), "at x = \(x): local derivative \(local), finite differences \(numeric)")
        }
    }
}

// MARK: - 1.3 topological order

@Suite struct Exercise_1_3 {
    @Test func chainOf100000Values() {
        // 100,000 additions in a row: a recursive search overflows the stack here.
        let step = Value(1)
        var v = Value(0)
        for _ in 0..<100_000 { v = v + step }
        let order = v.topologicalOrder()
        #expect(order.count == 100_002, "a chain of 100,000 additions of one shared value has 100,002 values, got \(order.count)")
        if let problem = topologicalProblem(order, root: v) { Issue.record("100,000-value chain: \(problem)") }
    }

    @Test func diamondsStackedFiftyHigh() {
        // Each level uses the previous value twice: 2⁵⁰ paths but only 101 values.
        // A search without a visited set never finishes.
        let x = Value(0)
        var v = x
        for _ in 0..<50 { v = v * v + v }
        let order = v.topologicalOrder()
        #expect(order.count == 101, "50 stacked diamonds hold 101 distinct values, got \(order.count)")
        if let problem = topologicalProblem(order, root: v) { Issue.record("stacked diamonds: \(problem)") }
    }

    @Test func oneValueUsedAThousandTimes() {
        let x = Value(2)
        var s = x
        for _ in 0..<1000 { s = s + x }
        let order = s.topologicalOrder()
        #expect(order.count == 1001, "x plus 1,000 sums: 1,001 values, got \(order.count)")
        #expect(order.first === x, "x is the only leaf, so it must come first")
        if let problem = topologicalProblem(order, root: s) { Issue.record("\(problem)") }
    }

    @Test func randomGraphs() {
        var g = SeededGenerator(seed: 13)
        for trial in 0..<20 {
            var pool = (0..<5).map { Value(Double($0)) }
            for _ in 0..<300 {
                let a = pool[Int.random(in: 0..<pool.count, using: &g)]
                let b = pool[Int.random(in: 0..<pool.count, using: &g)]
                pool.append(Bool.random(using: &g) ? a + b : a * b)
            }
            let root = pool[Int.random(in: 250..<pool.count, using: &g)]
            let order = root.topologicalOrder()
            let expected = reachable(from: root)
            let sameValues = Set(order.map(ObjectIdentifier.init)) == expected && order.count == expected.count
            #expect(sameValues, "random graph \(trial) (seed 13): expected each of the \(expected.count) reachable values once, got \(order.count) entries")
            if let problem = topologicalProblem(order, root: root) {
                Issue.record("random graph \(trial) (seed 13): \(problem)")
                return
            }
            if !sameValues { return }
        }
    }

    @Test func onlyTheAncestorsOfTheRoot() {
        let a = Value(1), b = Value(2), e = Value(3)
        let c = a * b
        let d = c + e
        let order = c.topologicalOrder()
        #expect(order.count == 3 && !order.contains { $0 === d || $0 === e },
                "c = a * b depends on a, b and itself only; values computed *from* c (d = c + e) are not part of its graph. Got ops \(ops(order))")
        _ = d
    }

    @Test func leavesDataAndGradientsAlone() {
        let a = Value(1.5), b = Value(-2)
        let c = a * b + a
        a.grad = 7
        let order = c.topologicalOrder()
        #expect(order.count == 4)
        #expect(a.grad == 7 && b.grad == 0 && c.grad == 0 && a.data == 1.5 && c.data == -1.5,
                "topologicalOrder() only lists values; it must not change data or gradients")
        #expect(c.inputs.count == 2 && c.inputs[1] === a, "topologicalOrder() must not change the graph")
    }
}

// MARK: - 1.4 one chain-rule step

@Suite struct Exercise_1_4 {
    // These build nodes with the public initializer, so they need no other exercise.

    @Test func eachInputGetsItsLocalDerivativeTimesGrad() {
        let a = Value(1), b = Value(2), c = Value(3)
        let y = Value(0, inputs: [a, b, c], localGrads: [2, -3, 0.5], op: "custom")
        y.grad = 4
        y.propagateGrad()
        #expect([a.grad, b.grad, c.grad] == [8, -12, 2],
                "with localGrads [2, −3, 0.5] and grad 4, the inputs should receive [8, −12, 2], got \([a.grad, b.grad, c.grad])")
    }

    @Test func anInputListedTwiceReceivesBothContributions() {
        let a = Value(1)
        let y = Value(0, inputs: [a, a], localGrads: [3, 4], op: "custom")
        y.grad = 2
        y.propagateGrad()
        let hint = a.grad == 8 ? " — the second contribution overwrote the first: add with +=" : ""
        #expect(a.grad == 14, "a appears twice (local derivatives 3 and 4, grad 2): expected 3·2 + 4·2 = 14, got \(a.grad)\(hint)")
    }

    @Test func addsToAnExistingGradient() {
        let a = Value(1)
        a.grad = -1.5
        let y = Value(0, inputs: [a], localGrads: [2], op: "custom")
        y.grad = 1
        y.propagateGrad()
        #expect(a.grad == 0.5, "a already held −1.5 and receives 2·1: expected 0.5, got \(a.grad)\(a.grad == 2 ? " — overwritten: use +=" : "")")
    }

    @Test func onlyTheDirectInputs() {
        let leaf = Value(1)
        let mid = Value(0, inputs: [leaf], localGrads: [10], op: "inner")
        let top = Value(0, inputs: [mid], localGrads: [3], op: "outer")
        top.grad = 1
        top.propagateGrad()
        #expect(mid.grad == 3, "the direct input should receive 3·1 = 3, got \(mid.grad)")
        #expect(leaf.grad == 0,
                "propagateGrad() is one step: inputs of inputs are handled later by backward(); expected leaf.grad 0, got \(leaf.grad)")
        #expect(top.grad == 1, "the value's own grad must stay 1, got \(top.grad)\(top.grad == 0 ? " — do not reset it" : "")")
    }

    @Test func aLeafHasNothingToSend() {
        let a = Value(3)
        a.grad = 2
        a.propagateGrad()
        #expect(a.grad == 2, "a leaf has no inputs: propagateGrad() leaves everything as it was")
    }

    @Test func aZeroGradientSendsNothing() {
        let a = Value(1), b = Value(1)
        b.grad = 5
        let y = Value(0, inputs: [a, b], localGrads: [7, 9], op: "custom")
        y.propagateGrad()
        #expect(a.grad == 0 && b.grad == 5, "with grad 0 the inputs receive 0: expected a.grad 0 and b.grad 5, got \(a.grad), \(b.grad)\(b.grad == 0 ? " — b's 5 was overwritten: add with +=" : "")")
    }
}

// MARK: - 1.5 backward

@Suite struct Exercise_1_5 {
    @Test func aValueTimesItself() {
        let a = Value(-3)
        let y = a * a
        y.backward()
        let hint = a.grad == -3 ? " — one use overwrote the other (use += when passing gradients back)" : ""
        #expect(a.grad == -6, "∂(a·a)/∂a = 2a = −6, got \(a.grad)\(hint)")
    }

    @Test func aDiamond() {
        // z = (x·x) · (3x) = 3x³, dz/dx = 9x² = 36 at x = 2; x reaches z along two paths.
        let x = Value(2)
        let p = x * x, q = x * 3
        let z = p * q
        z.backward()
        #expect(x.grad == 36, "z = (x·x)·(3x) at x = 2: expected dz/dx = 9x² = 36, got \(x.grad)")
        #expect(p.grad == 6 && q.grad == 4, "intermediate gradients: expected ∂z/∂p = q = 6 and ∂z/∂q = p = 4, got \(p.grad) and \(q.grad)")
    }

    @Test func aChainOf100000Values() {
        // v = x + x + … + x (100,001 times): dv/dx = 100,001.
        let x = Value(0.5)
        var v = x
        for _ in 0..<100_000 { v = v + x }
        v.backward()
        #expect(x.grad == 100_001, "x used 100,001 times in a 100,000-deep chain: expected dv/dx = 100001, got \(x.grad)")
    }

    @Test func twoBackwardCalls() {
        // y = tanh(w·x) · 2; the leaves accumulate, computed values hold one pass.
        let w = Value(0.3), x = Value(-1.2)
        let m = w * x
        let t = m.tanh()
        let y = t * 2
        y.backward()
        let once = (w: w.grad, x: x.grad, m: m.grad)
        y.backward()
        let factor = w.grad / once.w
        let hint = close(factor, 3) ? " — 3×: computed values kept their gradient from the first pass and passed it on again; set non-leaf grads to 0 before propagating"
            : close(factor, 1) ? " — the second call changed nothing: leaves must accumulate (+=), not be reset"
            : ""
        #expect(close(w.grad, 2 * once.w) && close(x.grad, 2 * once.x),
                "after two backward() calls leaves hold twice one pass: expected w.grad \(2 * once.w), got \(w.grad)\(hint)")
        #expect(y.grad == 1, "the output's gradient is ∂y/∂y = 1 on every call, got \(y.grad)")
        #expect(close(m.grad, once.m), "a computed value holds this pass's gradient \(once.m), got \(m.grad)")
    }

    @Test func zeroGradThenBackwardAgain() {
        let a = Value(1.5), b = Value(-0.5)
        let y = (a * b).tanh() + a
        y.backward()
        let first = (a.grad, b.grad)
        y.zeroGrad(wholeGraph: true)
        y.backward()
        #expect(close(a.grad, first.0) && close(b.grad, first.1),
                "after zeroGrad(wholeGraph: true) a new backward() gives the same gradients: expected \(first), got \((a.grad, b.grad))")
    }

    @Test func backwardOnALeaf() {
        let a = Value(4)
        a.backward()
        #expect(a.grad == 1, "∂a/∂a = 1, got \(a.grad)")
    }

    @Test func backwardFromAnIntermediateValue() {
        let a = Value(2), b = Value(5), e = Value(1)
        let c = a * b
        let d = c * e
        c.backward()
        #expect(a.grad == 5 && b.grad == 2, "∂c/∂a = b = 5, ∂c/∂b = a = 2; got \(a.grad), \(b.grad)")
        #expect(e.grad == 0 && d.grad == 0, "values outside c's graph (d = c·e, e) must keep grad 0; got e \(e.grad), d \(d.grad)")
    }

    @Test func anUnusedBranchGetsNothing() {
        let a = Value(2), b = Value(3)
        let used = a * b
        let unused = b * 10
        let y = used + a
        y.backward()
        #expect(unused.grad == 0, "a value the output does not depend on gets no gradient, got \(unused.grad)")
        #expect(a.grad == 4 && b.grad == 2, "y = a·b + a: expected ∂y/∂a = b + 1 = 4 and ∂y/∂b = a = 2, got \(a.grad), \(b.grad)")
    }

    @Test func randomExpressionsAgreeWithFiniteDifferences() {
        var g = SeededGenerator(seed: 15)
        for trial in 0..<30 {
            let inputs = (0..<3).map { _ in Double.random(in: -1.5...1.5, using: &g) }
            let choices = (0..<12).map { _ in (Int.random(in: 0..<5, using: &g), Int.random(in: 0..<100, using: &g), Int.random(in: 0..<100, using: &g)) }
            // The same random program, run on any leaves.
            func program(_ leaves: [Value]) -> Value {
                var pool = leaves
                for (op, i, j) in choices {
                    let a = pool[i % pool.count], b = pool[j % pool.count]
                    switch op {
                    case 0: pool.append(a + b)
                    case 1: pool.append(a * b)
                    case 2: pool.append(a.tanh())
                    case 3: pool.append(a - b * 0.5)
                    default: pool.append((a * b).tanh() + a)
                    }
                }
                return pool.suffix(4).reduce(Value(0)) { $0 + $1 }
            }
            let leaves = inputs.map { Value($0) }
            program(leaves).backward()
            for k in 0..<3 {
                let h = 1e-6
                var up = inputs, down = inputs
                up[k] += h; down[k] -= h
                let numeric = (program(up.map { Value($0) }).data - program(down.map { Value($0) }).data) / (2 * h)
                let ok = close(leaves[k].grad, numeric, 1e-5)
                #expect(ok, "random expression \(trial) (seed 15), input \(k): backward gave \(leaves[k].grad), finite differences \(numeric)")
                if !ok { return }  // one failing case is enough to read
            }
        }
    }
}
