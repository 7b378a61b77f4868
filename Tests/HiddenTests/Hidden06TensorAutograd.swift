import Foundation
import Testing
// `@testable` for `accumulateGrad` (exercise 6.3), which the library keeps internal.
import Kindling

// Hidden tests of lesson 6 (tensor autograd). The grader maps each test to its
// exercise by the suite name `Exercise_6_N`; each suite uses only its own
// exercise and earlier ones (6.1–6.4 never run backward(); 6.5 uses only ops
// whose rules are finished code). Gradients are compared with values worked out
// by hand or with central finite differences computed here, in Double where it
// matters. They probe what the visible tests do not: broadcasting both ways,
// non-contiguous inputs, tensors used many times, long chains and wide
// diamonds, retained graphs, extreme inputs, leaks.
//
// Every test also observes the values the learner's code produced (see
// Support/Observe.swift), and runs a small case drawn from the grading seed
// next to its hand-worked one.

// MARK: - Helpers (independent of the exercises)

/// ∂(Σ w·f(x))/∂x by central differences in Double, one element at a time,
/// for an elementwise f: the tests' own referee.
private func elementwiseDerivative(_ f: (Double) -> Double, at xs: [Float]) -> [Float] {
    xs.map { x in
        let h = 1e-4 * Swift.max(1, Swift.abs(Double(x)))
        return Float((f(Double(x) + h) - f(Double(x) - h)) / (2 * h))
    }
}

/// Whether the tensor behind `make()` is freed once nothing holds the graph.
private func graphIsFreed(_ make: () -> Tensor) -> Bool {
    weak var weakResult: Tensor?
    do {
        let result = make()
        weakResult = result
    }
    return weakResult == nil
}

/// Uniform numbers in [lo, hi) from a seed.
private func uniform(_ count: Int, _ lo: Float, _ hi: Float, seed: UInt64) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: lo..<hi, using: &g) }
}

/// Uniform numbers in [lo, hi) drawn from `g`.
private func draw(_ count: Int, _ lo: Float, _ hi: Float, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float.random(in: lo..<hi, using: &g) }
}

/// Multiples of 1/4 in [−limit, limit] drawn from `g` (sums and doublings of them are exact).
private func quarters(_ count: Int, limit: Int = 12, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float(Int.random(in: -limit...limit, using: &g)) / 4 }
}

/// Numbers with |x| in [lo, hi) and a random sign, drawn from `g` (kept away from 0).
private func awayFromZero(_ count: Int, _ lo: Float, _ hi: Float, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in (Bool.random(using: &g) ? 1 : -1) * Float.random(in: lo..<hi, using: &g) }
}

/// `values` of shape [rows, cols] transposed, row-major.
private func transposedValues(_ values: [Float], rows: Int, cols: Int) -> [Float] {
    (0..<cols).flatMap { j in (0..<rows).map { i in values[i * cols + j] } }
}

/// `values` of `shape` summed back to `target` (the axes `target` lacks or has as 1), in Double.
private func referenceSumToShape(_ values: [Float], _ shape: [Int], to target: [Int]) -> [Float] {
    let lead = shape.count - target.count
    var out = [Double](repeating: 0, count: target.reduce(1, *))
    for (flat, index) in indicesOf(shape).enumerated() {
        var t = 0
        for j in target.indices { t = t * target[j] + (target[j] == 1 ? 0 : index[lead + j]) }
        out[t] += Double(values[flat])
    }
    return out.map { Float($0) }
}

// MARK: - 6.1 record

@Suite struct Exercise_6_1 {
    @Test func opsListAllTheirInputsInOrder() {
        let a = Tensor([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
        let b = Tensor([1, 0, 0, 1], shape: [2, 2])
        for (name, result) in [("matmul", b.matmul(a)), ("sub", b - a), ("add", a + b)] {
            #expect(result.node?.op == name, "expected op \"\(name)\", got \(String(describing: result.node?.op))")
            let inputs = result.node?.inputs ?? []
            let expectedFirst = name == "add" ? a : b, expectedSecond = name == "add" ? b : a
            #expect(inputs.count == 2 && inputs[0] === expectedFirst && inputs[1] === expectedSecond,
                    "\(name): node.inputs must be exactly the op's inputs, in order — also those that need no grad")
            #expect(result.requiresGrad && !result.isLeaf, "\(name): a recorded result requires grad and is not a leaf")
            observe("the op recorded for \(name)", result.node?.op ?? "no node")
            observe("\(name): whether node.inputs are exactly the op's inputs, in order", inputs.count == 2 && inputs[0] === expectedFirst && inputs[1] === expectedSecond)
            observe("\(name): whether the result requires grad and is not a leaf", result.requiresGrad && !result.isLeaf)
        }

        // Drawn from the grading seed: other operands, ops and operand orders, one side possibly without grad.
        var g = SeededGenerator(seed: graded(6101))
        var recorded: [String] = [], counts: [Int] = [], allInOrder = true
        for _ in 0..<6 {
            let (r, k, c) = (Int.random(in: 1...3, using: &g), Int.random(in: 1...3, using: &g), Int.random(in: 1...3, using: &g))
            let name = ["add", "sub", "mul", "matmul"].randomElement(using: &g)!
            let lhsNeedsGrad = Bool.random(using: &g)
            let lhs = Tensor(draw(r * k, -2, 2, &g), shape: [r, k], requiresGrad: lhsNeedsGrad)
            let rhsShape = name == "matmul" ? [k, c] : [r, k]
            let rhs = Tensor(draw(rhsShape.reduce(1, *), -2, 2, &g), shape: rhsShape, requiresGrad: !lhsNeedsGrad || Bool.random(using: &g))
            let result = name == "add" ? lhs + rhs : name == "sub" ? lhs - rhs : name == "mul" ? lhs * rhs : lhs.matmul(rhs)
            let inputs = result.node?.inputs ?? []
            let inOrder = inputs.count == 2 && inputs[0] === lhs && inputs[1] === rhs
            #expect(result.node?.op == name && inOrder && result.requiresGrad && !result.isLeaf,
                    "\(name) of drawn operands \(lhs.shape) and \(rhs.shape): expected op \"\(name)\", node.inputs exactly the op's inputs in order, a result that requires grad and is not a leaf; got op \(String(describing: result.node?.op)), \(inputs.count) inputs")
            recorded.append(result.node?.op ?? "no node")
            counts.append(inputs.count)
            allInOrder = allInOrder && inOrder && result.requiresGrad && !result.isLeaf
            observe("the result of drawn op \(recorded.count) (\(name))", result)
        }
        observe("the ops recorded for six drawn operations", recorded.joined(separator: ", "))
        observe("the number of node.inputs of each of the six drawn operations", counts)
        observe("whether each drawn operation recorded its inputs in order and requires grad", allInOrder)
    }

    @Test func enableGradInsideNoGradRecords() {
        let a = Tensor([1, 2], requiresGrad: true)
        let result = noGrad { enableGrad { a * 2 } }
        #expect(result.node?.op == "mul" && result.requiresGrad,
                "enableGrad { … } switches recording back on inside noGrad: the result should be recorded")
        let off = noGrad { a * 2 }
        #expect(off.node == nil && !off.requiresGrad, "inside noGrad nothing is recorded")
        observe("the op recorded by enableGrad { a * 2 } inside noGrad", result.node?.op ?? "no node")
        observe("whether enableGrad { a * 2 } inside noGrad requires grad", result.requiresGrad)
        observe("whether a * 2 inside noGrad has no node and needs no grad", off.node == nil && !off.requiresGrad)

        // Drawn from the grading seed: another input and factor.
        var g = SeededGenerator(seed: graded(6102))
        let values = draw(Int.random(in: 2...6, using: &g), -3, 3, &g), factor = Float.random(in: -4..<4, using: &g)
        let x = Tensor(values, requiresGrad: true)
        let inside = noGrad { enableGrad { x * factor } }
        let outside = noGrad { x * factor }
        #expect(inside.node?.op == "mul" && inside.requiresGrad && outside.node == nil && !outside.requiresGrad,
                "x · \(factor) for drawn x: recorded inside enableGrad { … } within noGrad, not recorded in noGrad alone")
        observe("the op recorded by enableGrad { x · \(factor) } inside noGrad, for drawn x", inside.node?.op ?? "no node")
        observe("enableGrad { x · \(factor) } inside noGrad, for drawn x", inside)
        observe("whether x · \(factor) inside noGrad has no node and needs no grad", outside.node == nil && !outside.requiresGrad)
    }

    @Test func aRecordedNodeDoesNotKeepItsOutputAlive() {
        let a = Tensor([1, 2, 3], requiresGrad: true)
        #expect(graphIsFreed { (a * a + a).exp() },
                "a graph that nobody holds must be freed: the node keeps its inputs and the backward rule, never the result itself")
        #expect(a.toArray() == [1, 2, 3], "recording must not change the inputs")
        observe("whether the graph of exp(a·a + a) is freed once nobody holds it", graphIsFreed { (a * a + a).exp() })
        observe("a after recording exp(a·a + a)", a.toArray())

        // Drawn from the grading seed: another input.
        var g = SeededGenerator(seed: graded(6103))
        let values = draw(Int.random(in: 2...6, using: &g), -1, 1, &g)
        let b = Tensor(values, requiresGrad: true)
        let freed = graphIsFreed { (b * b + b).exp() }
        let held = (b * b + b).exp()
        #expect(freed && b.toArray() == values, "exp(b·b + b) for drawn b: the graph must be freed and b unchanged")
        observe("whether the graph of exp(b·b + b) is freed for drawn b", freed)
        observe("drawn b after recording exp(b·b + b)", b.toArray())
        observe("exp(b·b + b) for drawn b", held)
    }

    @Test func theRuleGivenIsTheRuleKept() {
        let a = Tensor([2, 3], requiresGrad: true)
        let y = a * 5
        let rule = y.node.map { !$0.isFreed } ?? false
        #expect(rule, "the node must hold the backward closure passed to record (GraphNode(op:inputs:backward:))")
        // Run the stored rule by hand (backward() is exercise 6.5).
        let grads = y.node?.inputGradients(Tensor([1, 1]), retainGraph: true) ?? []
        #expect(grads.count == 1 && grads[0]?.toArray() == [5, 5],
                "the stored rule of 5·a maps [1, 1] to [[5, 5]], got \(grads.map { $0?.toArray() ?? [] })")
        observe("whether the node of 5·a holds a backward rule", rule)
        observe("the number of gradients the stored rule of 5·a returns", grads.count)
        observe("the stored rule of 5·a applied to [1, 1]", grads.first ?? nil, atol: 0, rtol: 0)

        // Drawn from the grading seed: another factor and another incoming gradient.
        var g = SeededGenerator(seed: graded(6104))
        let n = Int.random(in: 2...6, using: &g)
        let factor = Float.random(in: -4..<4, using: &g), incoming = draw(n, -2, 2, &g)
        let b = Tensor(draw(n, -3, 3, &g), requiresGrad: true)
        let z = b * factor
        let kept = z.node?.inputGradients(Tensor(incoming), retainGraph: true) ?? []
        #expect(kept.count == 1, "the stored rule of \(factor)·b returns one gradient per input; got \(kept.count)")
        observe("the number of gradients the stored rule of \(factor)·b returns", kept.count)
        expectValues("the stored rule of \(factor)·b applied to \(incoming)", kept.first ?? nil, incoming.map { $0 * factor }, shape: [n])
    }
}

// MARK: - 6.2 topologicalOrder

/// Why `order` is not a topological order of `root`'s gradient graph, or nil.
private func orderProblem(_ order: [Tensor], root: Tensor) -> String? {
    var seen = Set<ObjectIdentifier>()
    for (i, t) in order.enumerated() {
        if let missing = (t.node?.inputs ?? []).first(where: { $0.requiresGrad && !seen.contains(ObjectIdentifier($0)) }) {
            return "position \(i) ('\(t.node?.op ?? "leaf")') comes before its input '\(missing.node?.op ?? "leaf")' — every tensor must come after all of its inputs"
        }
        if !seen.insert(ObjectIdentifier(t)).inserted {
            return "position \(i) ('\(t.node?.op ?? "leaf")') is listed a second time — a tensor reached along two paths must appear once (keep a visited set)"
        }
        if !t.requiresGrad { return "position \(i) is a tensor that does not require grad — leave such inputs out" }
    }
    return order.last === root ? nil : "the tensor you called topologicalOrder() on must come last"
}

/// How many tensors that require grad are reachable from `root` (itself included), found by the test.
private func reachableCount(_ root: Tensor) -> Int {
    var reachable: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
    var stack = [root]
    while let t = stack.popLast() {
        for input in t.node?.inputs ?? [] where input.requiresGrad && reachable.insert(ObjectIdentifier(input)).inserted {
            stack.append(input)
        }
    }
    return reachable.count
}

@Suite struct Exercise_6_2 {
    @Test func aChainOf50000Ops() {
        var x = Tensor([1], requiresGrad: true)
        for _ in 0..<50_000 { x = x * 1 }
        let order = x.topologicalOrder()
        #expect(order.count == 50_001, "50,000 ops on one leaf: 50,001 tensors, got \(order.count) — a recursive walk overflows the stack here; use an explicit stack")
        observe("the number of tensors in the order of a 50,000-op chain", order.count)

        // Drawn from the grading seed: another long chain, mixing ops with a constant.
        var g = SeededGenerator(seed: graded(6201))
        let n = Int.random(in: 5_000...20_000, using: &g)
        var y = Tensor(draw(Int.random(in: 1...4, using: &g), -1, 1, &g), requiresGrad: true)
        for i in 0..<n { y = i % 3 == 0 ? y * 1 : i % 3 == 1 ? y + 0.5 : y - 0.25 }
        let chain = y.topologicalOrder()
        #expect(chain.count == n + 1, "\(n) ops on one leaf: \(n + 1) tensors, got \(chain.count)")
        observe("the number of tensors in the order of a chain of \(n) ops", chain.count)
        observe("whether that order is a valid topological order", orderProblem(chain, root: y) == nil)
    }

    @Test func diamondsStackedFortyHigh() {
        // Each level uses the previous tensor twice: 2⁴⁰ paths, 81 tensors.
        let leaf = Tensor([1], requiresGrad: true)
        var x = leaf
        for _ in 0..<40 { let y = x + 0; x = y + y }
        let order = x.topologicalOrder()
        #expect(order.count == 81, "40 stacked diamonds hold 81 tensors, each listed once; got \(order.count) — mark tensors as visited so shared ones are not walked again")
        #expect(orderProblem(order, root: x) == nil, "\(orderProblem(order, root: x) ?? "")")
        observe("the number of tensors in the order of 40 stacked diamonds", order.count)
        observe("whether the order of 40 stacked diamonds is a valid topological order", orderProblem(order, root: x) == nil)

        // Drawn from the grading seed: another height, and diamonds of three branches.
        var g = SeededGenerator(seed: graded(6202))
        let height = Int.random(in: 10...60, using: &g)
        var z = Tensor([0], requiresGrad: true)
        for _ in 0..<height { let y = z + 0; z = y + y * y }
        let tall = z.topologicalOrder()
        let problem = orderProblem(tall, root: z)
        #expect(tall.count == 3 * height + 1 && problem == nil,
                "\(height) stacked diamonds y = x + 0, x = y + y·y hold \(3 * height + 1) tensors, each listed once; got \(tall.count)\(problem.map { " — \($0)" } ?? "")")
        observe("the number of tensors in the order of \(height) stacked three-op diamonds", tall.count)
        observe("whether the order of \(height) stacked three-op diamonds is a valid topological order", problem == nil)
    }

    @Test func constantsAndDetachedTensorsAreLeftOut() {
        let w = Tensor([1, 2], requiresGrad: true)
        let c = Tensor([3, 4])
        let frozen = (w * 2).detach()
        let y = (w * c + frozen * w + c).sum()
        let order = y.topologicalOrder()
        #expect(!order.contains { $0 === c || $0 === frozen },
                "c and the detached tensor do not require grad: they must not be in the order")
        #expect(orderProblem(order, root: y) == nil, "\(orderProblem(order, root: y) ?? "")")
        observe("the number of tensors in the order of Σ(w·c + frozen·w + c)", order.count)
        observe("whether that order leaves out c and the detached tensor and is valid",
                !order.contains { $0 === c || $0 === frozen } && orderProblem(order, root: y) == nil)

        // Drawn from the grading seed: graphs full of constants and detached tensors.
        var g = SeededGenerator(seed: graded(6203))
        var sizes: [Int] = [], valid = true
        for trial in 0..<8 {
            var pool = [Tensor([Float.random(in: -1...1, using: &g)], requiresGrad: true)]
            pool += (0..<3).map { _ in Tensor([Float.random(in: -1...1, using: &g)]) }
            for _ in 0..<Int.random(in: 4...20, using: &g) {
                let a = pool.randomElement(using: &g)!, b = pool.randomElement(using: &g)!
                switch Int.random(in: 0..<4, using: &g) {
                case 0: pool.append(a.detach())
                case 1: pool.append(a * b)
                default: pool.append(a + b)
                }
            }
            let root = pool.last { $0.requiresGrad }!  // the leaf, at least
            let drawn = root.topologicalOrder()
            let problem = orderProblem(drawn, root: root)
                ?? (drawn.count == reachableCount(root) ? nil : "it holds \(drawn.count) tensors, but \(reachableCount(root)) require grad and are reachable")
            #expect(problem == nil, "drawn graph \(trial) with constants and detached tensors: \(problem ?? "")")
            sizes.append(drawn.count)
            valid = valid && problem == nil
        }
        observe("the number of tensors in the orders of eight drawn graphs with constants and detached tensors", sizes)
        observe("whether all eight orders are valid and hold exactly the reachable tensors that require grad", valid)
    }

    @Test func randomGraphs() {
        var g = SeededGenerator(seed: graded(62))
        for trial in 0..<50 {
            var pool = (0..<3).map { _ in Tensor([Float.random(in: -1...1, using: &g)], requiresGrad: Bool.random(using: &g)) }
            pool.append(Tensor([1], requiresGrad: true))
            for _ in 0..<Int.random(in: 1...25, using: &g) {
                let a = pool.randomElement(using: &g)!, b = pool.randomElement(using: &g)!
                pool.append(Bool.random(using: &g) ? a + b : a * b)
            }
            let root = pool.last!
            guard root.requiresGrad else { continue }
            let order = root.topologicalOrder()
            // Everything reachable through gradient-requiring tensors, found by the test.
            var reachable: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
            var stack = [root]
            while let t = stack.popLast() {
                for input in t.node?.inputs ?? [] where input.requiresGrad && reachable.insert(ObjectIdentifier(input)).inserted {
                    stack.append(input)
                }
            }
            let problem = orderProblem(order, root: root)
                ?? (Set(order.map(ObjectIdentifier.init)) == reachable ? nil : "it holds \(order.count) tensors, but \(reachable.count) require grad and are reachable")
            #expect(problem == nil, "random graph \(trial) (seed 62): \(problem ?? "")")
            observe("the number of tensors in the order of random graph \(trial)", order.count)
            observe("whether the order of random graph \(trial) is valid and holds exactly the reachable tensors that require grad", problem == nil)
            if problem != nil { return }
        }
    }
}

// MARK: - 6.3 accumulateGrad

@Suite struct Exercise_6_3 {
    @Test func twoLeavesReceivingTheSameTensor() {
        let x = Tensor([1, 2], requiresGrad: true), y = Tensor([3, 4], requiresGrad: true)
        let g = Tensor([1, 1])
        x.accumulateGrad(g)
        y.accumulateGrad(g)
        x.accumulateGrad(g)
        #expect(x.grad?.toArray() == [2, 2], "x received [1, 1] twice: [2, 2], got \(String(describing: x.grad?.toArray()))")
        #expect(y.grad?.toArray() == [1, 1] && g.toArray() == [1, 1],
                "y received [1, 1] once, but now holds \(String(describing: y.grad?.toArray())) (and g is \(g.toArray())): the first gradient must be a copy — adding into x.grad changed a tensor shared with y")
        observe("the gradient of x after receiving [1, 1] twice", x.grad, atol: 0, rtol: 0)
        observe("the gradient of y after receiving [1, 1] once", y.grad, atol: 0, rtol: 0)
        observe("g after both leaves received it", g.toArray())

        // Drawn from the grading seed: another shared gradient.
        var r = SeededGenerator(seed: graded(6301))
        let n = Int.random(in: 2...7, using: &r)
        let shared = quarters(n, &r)
        let s = Tensor(shared)
        let p = Tensor(draw(n, -1, 1, &r), requiresGrad: true), q = Tensor(draw(n, -1, 1, &r), requiresGrad: true)
        p.accumulateGrad(s)
        q.accumulateGrad(s)
        p.accumulateGrad(s)
        #expect(p.grad?.toArray() == shared.map { 2 * $0 } && q.grad?.toArray() == shared && s.toArray() == shared,
                "p received \(shared) twice and q once: expected \(shared.map { 2 * $0 }) and \(shared), got \(String(describing: p.grad?.toArray())) and \(String(describing: q.grad?.toArray())) — the first gradient must be a copy")
        observe("the gradient of p after receiving \(shared) twice", p.grad, atol: 0, rtol: 0)
        observe("the gradient of q after receiving \(shared) once", q.grad, atol: 0, rtol: 0)
        observe("the shared gradient \(shared) after both leaves received it", s.toArray())
    }

    @Test func aNonContiguousGradient() {
        let x = Tensor([0, 0, 0, 0, 0, 0], shape: [3, 2], requiresGrad: true)
        let g = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).transposed()  // [3, 2], strides [1, 3]
        x.accumulateGrad(g)
        x.accumulateGrad(g)
        expectGradient(of: "x (two transposed gradients)", x, [2, 8, 4, 10, 6, 12])

        // Drawn from the grading seed: another shape and other values, transposed.
        var r = SeededGenerator(seed: graded(6302))
        let (rows, cols) = (Int.random(in: 2...5, using: &r), Int.random(in: 2...5, using: &r))
        let values = draw(rows * cols, -2, 2, &r)
        let leaf = Tensor([Float](repeating: 0, count: rows * cols), shape: [cols, rows], requiresGrad: true)
        let view = Tensor(values, shape: [rows, cols]).transposed()  // [cols, rows], not contiguous
        leaf.accumulateGrad(view)
        leaf.accumulateGrad(view)
        expectGradient(of: "a [\(cols), \(rows)] leaf after two transposed drawn gradients", leaf,
                       transposedValues(values, rows: rows, cols: cols).map { 2 * $0 })
    }

    @Test func aGradientSetByHandIsAddedTo() {
        let x = Tensor([1, 2], requiresGrad: true)
        x.grad = Tensor([10, 20])
        noGrad { x.accumulateGrad(Tensor([5, 6])) }
        expectGradient(of: "x (grad [10, 20] set by hand, then [5, 6] accumulated)", x, [15, 26])

        // Drawn from the grading seed: another gradient set by hand and another one accumulated.
        var r = SeededGenerator(seed: graded(6303))
        let n = Int.random(in: 2...6, using: &r)
        let byHand = draw(n, -20, 20, &r), added = draw(n, -5, 5, &r)
        let leaf = Tensor(draw(n, -1, 1, &r), requiresGrad: true)
        leaf.grad = Tensor(byHand)
        noGrad { leaf.accumulateGrad(Tensor(added)) }
        expectGradient(of: "a leaf (grad \(byHand) set by hand, then \(added) accumulated)", leaf, zip(byHand, added).map { $0 + $1 })
    }

    @Test func aScalarLeaf() {
        let s = Tensor(scalar: 2, requiresGrad: true)
        s.accumulateGrad(Tensor(scalar: 0.5))
        s.accumulateGrad(Tensor(scalar: 0.25))
        #expect(s.grad?.shape == [] && s.grad?.item() == 0.75, "a scalar leaf: 0.5 + 0.25 = 0.75 with shape [], got \(String(describing: s.grad?.toArray()))")
        observe("the gradient of a scalar leaf that received 0.5 and 0.25", s.grad, atol: 0, rtol: 0)

        // Drawn from the grading seed: three other scalar gradients (multiples of 1/4: the sum is exact).
        var r = SeededGenerator(seed: graded(6304))
        let parts = quarters(3, limit: 40, &r)
        let leaf = Tensor(scalar: Float.random(in: -2..<2, using: &r), requiresGrad: true)
        for part in parts { leaf.accumulateGrad(Tensor(scalar: part)) }
        let total = parts.reduce(0, +)
        #expect(leaf.grad?.shape == [] && leaf.grad?.item() == total,
                "a scalar leaf that received \(parts): \(total) with shape [], got \(String(describing: leaf.grad?.toArray())) of shape \(String(describing: leaf.grad?.shape))")
        observe("the gradient of a scalar leaf that received \(parts)", leaf.grad, atol: 0, rtol: 0)
    }
}

// MARK: - 6.4 sumToShape

@Suite struct Exercise_6_4 {
    @Test func everyWayAShapeCanBroadcast() {
        let g = Tensor.arange(24).reshaped([2, 3, 4])
        // (target, expected values) worked out by hand from 0…23 laid out [2, 3, 4].
        let cases: [([Int], [Float])] = [
            ([4], [60, 66, 72, 78]),
            ([3, 4], [12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34]),
            ([3, 1], [60, 92, 124]),
            ([1, 4], [60, 66, 72, 78]),
            ([2, 1, 4], [12, 15, 18, 21, 48, 51, 54, 57]),
            ([2, 1, 1], [66, 210]),
            ([1, 1, 1], [276]),
            ([], [276]),
            ([1], [276]),
            ([2, 3, 4], (0..<24).map(Float.init)),
        ]
        for (target, expected) in cases {
            expectValues("Tensor.arange(24).reshaped([2, 3, 4]).sumToShape(\(target))", g.sumToShape(target), expected, shape: target)
        }

        // Drawn from the grading seed: other shapes, each summed to a target it broadcasts to.
        var r = SeededGenerator(seed: graded(6401))
        for _ in 0..<5 {
            let shape = (0..<Int.random(in: 1...4, using: &r)).map { _ in Int.random(in: 1...4, using: &r) }
            let kept = Int.random(in: 0...shape.count, using: &r)
            let target = shape.suffix(kept).map { Bool.random(using: &r) ? 1 : $0 }
            let values = quarters(shape.reduce(1, *), &r)
            expectValues("drawn \(values) of shape \(shape) summed to \(target)", Tensor(values, shape: shape).sumToShape(target),
                         referenceSumToShape(values, shape, to: target), shape: target)
        }
    }

    @Test func aNonContiguousGradient() {
        let g = Tensor.arange(6).reshaped([2, 3]).transposed()  // [3, 2]: [[0, 3], [1, 4], [2, 5]]
        expectValues("a transposed [3, 2] gradient summed to [2]", g.sumToShape([2]), [3, 12], shape: [2])
        expectValues("a transposed [3, 2] gradient summed to [3, 1]", g.sumToShape([3, 1]), [3, 5, 7], shape: [3, 1])

        // Drawn from the grading seed: another transposed gradient, summed to each shape it can come from.
        var r = SeededGenerator(seed: graded(6402))
        let (rows, cols) = (Int.random(in: 2...5, using: &r), Int.random(in: 2...5, using: &r))
        let values = quarters(rows * cols, &r)
        let view = Tensor(values, shape: [rows, cols]).transposed()  // [cols, rows], not contiguous
        let logical = transposedValues(values, rows: rows, cols: cols)
        for target in [[rows], [cols, 1], [1, rows], [1, 1], []] {
            expectValues("the transpose of drawn \(values) as [\(rows), \(cols)], summed to \(target)", view.sumToShape(target),
                         referenceSumToShape(logical, [cols, rows], to: target), shape: target)
        }
    }

    @Test func sizeOneAxesThatWereNotStretchedStay() {
        let g = Tensor.arange(6).reshaped([3, 1, 2])
        expectValues("[3, 1, 2] summed to [1, 2] (axis 0 absent; axis 1 is size 1 in both)", g.sumToShape([1, 2]), [6, 9], shape: [1, 2])
        expectValues("[3, 1, 2] summed to [3, 1, 1]", g.sumToShape([3, 1, 1]), [1, 5, 9], shape: [3, 1, 1])

        // Drawn from the grading seed: another shape with size-1 axes.
        var r = SeededGenerator(seed: graded(6403))
        let (a, b) = (Int.random(in: 2...4, using: &r), Int.random(in: 2...4, using: &r))
        let shape = [a, 1, b, 1]
        let values = quarters(a * b, &r)
        let t = Tensor(values, shape: shape)
        for target in [[1, b, 1], [a, 1, 1, 1], [1, 1, b, 1], [b, 1], [1, 1]] {
            expectValues("drawn \(values) of shape \(shape) summed to \(target) (its size-1 axes stay)", t.sumToShape(target),
                         referenceSumToShape(values, shape, to: target), shape: target)
        }
    }
}

// MARK: - 6.5 backward

@Suite struct Exercise_6_5 {
    @Test func aLongChainOfAdditions() {
        let leaf = Tensor([1, 2], requiresGrad: true)
        var x = leaf
        for _ in 0..<20_000 { x = x + 1 }
        x.sum().backward()
        expectGradient(of: "the leaf of a 20,000-step chain", leaf, [1, 1])

        // Drawn from the grading seed: another chain of additions, squared at the end.
        var g = SeededGenerator(seed: graded(6501))
        let steps = Int.random(in: 5_000...20_000, using: &g)
        let start = draw(Int.random(in: 1...4, using: &g), -1, 1, &g)
        let other = Tensor(start, requiresGrad: true)
        var y = other
        var added: Float = 0
        for i in 0..<steps {
            let c: Float = i % 2 == 0 ? 0.25 : -0.125
            y = y + c
            added += c
        }
        y.pow(2).sum().backward()
        expectGradient(of: "the leaf \(start) of Σ (leaf + c₁ + … + c\(steps))²", other, start.map { 2 * ($0 + added) })
    }

    @Test func diamondsAddTheirBranches() {
        let leaf = Tensor([1], requiresGrad: true)
        var x = leaf
        for _ in 0..<20 { x = (x + 0) + (x - 0) }  // each level doubles the gradient
        x.sum().backward()
        expectGradient(of: "the leaf under 20 stacked diamonds (2²⁰)", leaf, [1_048_576])

        // Drawn from the grading seed: another height, and a squared sum on top.
        var g = SeededGenerator(seed: graded(6502))
        let height = Int.random(in: 3...12, using: &g)
        let start = draw(Int.random(in: 1...3, using: &g), -1, 1, &g)
        let other = Tensor(start, requiresGrad: true)
        var y = other
        for _ in 0..<height { y = (y + 0) + (y - 0) }
        y.pow(2).sum().backward()
        let scale = Float(1 << height)
        expectGradient(of: "the leaf \(start) under \(height) stacked diamonds, then Σ y²", other, start.map { 2 * scale * scale * $0 })
    }

    @Test func constantsGetNoGradient() {
        let w = Tensor([1, 2], requiresGrad: true), c = Tensor([3, 4])
        (w + c).sum().backward()
        #expect(c.grad == nil, "c does not require grad: backward must not give it a gradient")
        expectGradient(of: "w", w, [1, 1])
        observe("the gradient of c (a constant)", c.grad)

        // Drawn from the grading seed: another weight and constant, in Σ (w − c)².
        var g = SeededGenerator(seed: graded(6503))
        let n = Int.random(in: 2...6, using: &g)
        let (wv, cv) = (draw(n, -2, 2, &g), draw(n, -2, 2, &g))
        let w2 = Tensor(wv, requiresGrad: true), c2 = Tensor(cv)
        (w2 - c2).pow(2).sum().backward()
        #expect(c2.grad == nil, "c does not require grad: backward must not give it a gradient")
        observe("the gradient of the drawn constant c in Σ (w − c)²", c2.grad)
        expectGradient(of: "w in Σ (w − c)² for drawn w = \(wv), c = \(cv)", w2, zip(wv, cv).map { 2 * ($0 - $1) })
    }

    @Test func anExplicitGradientForANonScalarOutput() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], requiresGrad: true)
        let y = (x + Tensor([1, 1, 1])).exp()
        y.backward(Tensor([1, 0, 2, 0, 1, 0], shape: [2, 3]))
        let e = (1...6).map { Float(Foundation.exp(Double($0 + 1))) }
        expectGradient(of: "x for y = exp(x + 1) seeded with [[1, 0, 2], [0, 1, 0]]", x, [e[0], 0, 2 * e[2], 0, e[4], 0])

        // Drawn from the grading seed: another x, row and output gradient.
        var g = SeededGenerator(seed: graded(6504))
        let (rows, cols) = (Int.random(in: 1...3, using: &g), Int.random(in: 2...4, using: &g))
        let (xv, rowv) = (draw(rows * cols, -1, 1, &g), draw(cols, -1, 1, &g))
        let seedGrad = (0..<(rows * cols)).map { _ in Float(Int.random(in: 0...3, using: &g)) }
        let x2 = Tensor(xv, shape: [rows, cols], requiresGrad: true)
        (x2 + Tensor(rowv)).exp().backward(Tensor(seedGrad, shape: [rows, cols]))
        let expected = (0..<(rows * cols)).map { i in Float(Double(seedGrad[i]) * Foundation.exp(Double(xv[i]) + Double(rowv[i % cols]))) }
        expectGradient(of: "drawn x [\(rows), \(cols)] for y = exp(x + \(rowv)) seeded with \(seedGrad)", x2, expected)
    }

    @Test func retainGraphRunsTheGraphTwice() {
        let x = Tensor([1, 2], requiresGrad: true)
        let y = (x.exp() - x).sum()
        y.backward(retainGraph: true)
        y.backward()
        let expected = [1, 2].map { Float(2 * (Foundation.exp(Double($0)) - 1)) }
        expectGradient(of: "x after two backward() calls through one retained graph", x, expected)

        // Drawn from the grading seed: another x, and another number of calls.
        var g = SeededGenerator(seed: graded(6505))
        let xv = draw(Int.random(in: 2...5, using: &g), -1.5, 1.5, &g)
        let calls = Int.random(in: 2...4, using: &g)
        let x2 = Tensor(xv, requiresGrad: true)
        let y2 = (x2.exp() - x2).sum()
        for _ in 1..<calls { y2.backward(retainGraph: true) }
        y2.backward()
        expectGradient(of: "drawn x \(xv) after \(calls) backward() calls through one retained graph of Σ(eˣ − x)", x2,
                       xv.map { Float(Double(calls) * (Foundation.exp(Double($0)) - 1)) })
    }

    @Test func backwardOnALeaf() {
        let x = Tensor([1, 2, 3], requiresGrad: true)
        x.backward(Tensor([4, 5, 6]))
        expectGradient(of: "a leaf that backward() is called on", x, [4, 5, 6])

        // Drawn from the grading seed: another leaf and gradient.
        var g = SeededGenerator(seed: graded(6506))
        let n = Int.random(in: 2...6, using: &g)
        let incoming = draw(n, -5, 5, &g)
        let leaf = Tensor(draw(n, -1, 1, &g), requiresGrad: true)
        leaf.backward(Tensor(incoming))
        expectGradient(of: "a drawn leaf that backward(\(incoming)) is called on", leaf, incoming)
    }

    @Test func gradientsAreComputedWithoutRecording() {
        let x = Tensor([1, 2, 4], requiresGrad: true)
        (x.log() + x.pow(2)).sum().backward()
        expectGradient(of: "x for Σ(log x + x²)", x, [3, 4.5, 8.25])
        #expect(x.grad?.requiresGrad == false && x.grad?.node == nil,
                "the gradient carries a graph: run the backward rules inside noGrad { … }")
        observe("whether the gradient of x is a plain tensor (no grad, no node)", x.grad?.requiresGrad == false && x.grad?.node == nil)

        // Drawn from the grading seed: another positive x.
        var g = SeededGenerator(seed: graded(6507))
        let xv = draw(Int.random(in: 2...6, using: &g), 0.5, 4, &g)
        let x2 = Tensor(xv, requiresGrad: true)
        (x2.log() + x2.pow(2)).sum().backward()
        expectGradient(of: "drawn x \(xv) for Σ(log x + x²)", x2, xv.map { 1 / $0 + 2 * $0 })
        #expect(x2.grad?.requiresGrad == false && x2.grad?.node == nil,
                "the gradient carries a graph: run the backward rules inside noGrad { … }")
        observe("whether the gradient of drawn x is a plain tensor (no grad, no node)", x2.grad?.requiresGrad == false && x2.grad?.node == nil)
    }

    @Test func aSharedSubexpressionWithBroadcasting() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], requiresGrad: true)
        let b = Tensor([1, 1], shape: [2, 1], requiresGrad: true)
        let s = a + b                 // [2, 3]
        let y = (s + s.exp() - b).sum()
        y.backward()
        let sv: [Float] = [2, 3, 4, 5, 6, 7]
        let expectedA = sv.map { 1 + Float(Foundation.exp(Double($0))) }
        expectGradient(of: "a", a, expectedA)
        let rowSums = [expectedA[0..<3].reduce(0, +), expectedA[3..<6].reduce(0, +)].map { $0 - 3 }
        expectGradient(of: "b [2, 1], used in s (broadcast over 3 columns) and once more on its own (also broadcast)", b, rowSums)

        // Drawn from the grading seed: other sizes and values.
        var g = SeededGenerator(seed: graded(6508))
        let (rows, cols) = (Int.random(in: 1...4, using: &g), Int.random(in: 2...5, using: &g))
        let (av, bv) = (draw(rows * cols, -1, 1, &g), draw(rows, -1, 1, &g))
        let a2 = Tensor(av, shape: [rows, cols], requiresGrad: true), b2 = Tensor(bv, shape: [rows, 1], requiresGrad: true)
        let s2 = a2 + b2
        (s2 + s2.exp() - b2).sum().backward()
        let gradA = (0..<(rows * cols)).map { 1 + Float(Foundation.exp(Double(av[$0]) + Double(bv[$0 / cols]))) }
        expectGradient(of: "drawn a [\(rows), \(cols)] in Σ(s + eˢ − b), s = a + b", a2, gradA)
        expectGradient(of: "drawn b [\(rows), 1] in Σ(s + eˢ − b), s = a + b", b2,
                       (0..<rows).map { i in gradA[(i * cols)..<((i + 1) * cols)].reduce(0, +) - Float(cols) })
    }
}

// MARK: - 6.6 product rule

@Suite struct Exercise_6_6 {
    @Test func broadcastOnBothSides() {
        let a = Tensor([1, 2], shape: [2, 1], requiresGrad: true)
        let b = Tensor([3, 4, 5], shape: [1, 3], requiresGrad: true)
        (a * b).sum().backward()
        expectGradient(of: "a [2, 1] in a·b with b [1, 3]", a, [12, 12])
        expectGradient(of: "b [1, 3] in a·b with a [2, 1]", b, [3, 3, 3])

        // Drawn from the grading seed: other sizes and values.
        var g = SeededGenerator(seed: graded(6601))
        let (rows, cols) = (Int.random(in: 2...5, using: &g), Int.random(in: 2...5, using: &g))
        let (av, bv) = (draw(rows, -2, 2, &g), draw(cols, -2, 2, &g))
        let a2 = Tensor(av, shape: [rows, 1], requiresGrad: true), b2 = Tensor(bv, shape: [1, cols], requiresGrad: true)
        (a2 * b2).sum().backward()
        expectGradient(of: "drawn a [\(rows), 1] in a·b with drawn b [1, \(cols)]", a2, [Float](repeating: bv.reduce(0, +), count: rows))
        expectGradient(of: "drawn b [1, \(cols)] in a·b with drawn a [\(rows), 1]", b2, [Float](repeating: av.reduce(0, +), count: cols))
    }

    @Test func aScalarTensorFactor() {
        let s = Tensor(scalar: 3, requiresGrad: true)
        let x = Tensor([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
        (x * s).sum().backward()
        expectGradient(of: "the scalar tensor s in Σ x·s", s, [10])
        expectGradient(of: "x in Σ x·s", x, [3, 3, 3, 3])

        // Drawn from the grading seed: another scalar and matrix.
        var g = SeededGenerator(seed: graded(6602))
        let (rows, cols) = (Int.random(in: 1...4, using: &g), Int.random(in: 1...4, using: &g))
        let sv = Float.random(in: -3..<3, using: &g), xv = draw(rows * cols, -2, 2, &g)
        let s2 = Tensor(scalar: sv, requiresGrad: true), x2 = Tensor(xv, shape: [rows, cols], requiresGrad: true)
        (x2 * s2).sum().backward()
        expectGradient(of: "the scalar tensor s = \(sv) in Σ x·s with drawn x [\(rows), \(cols)]", s2, [xv.reduce(0, +)])
        expectGradient(of: "drawn x [\(rows), \(cols)] in Σ x·s with s = \(sv)", x2, [Float](repeating: sv, count: rows * cols))
    }

    @Test func onlyOneFactorNeedsGrad() {
        let w = Tensor([1, 2, 3], requiresGrad: true), data = Tensor([0, 5, -1])
        (w * data).sum().backward()
        expectGradient(of: "w in Σ w·data", w, [0, 5, -1])
        #expect(data.grad == nil, "data does not require grad and gets none")
        observe("the gradient of data (needs no grad)", data.grad)

        // Drawn from the grading seed: another weight and data.
        var g = SeededGenerator(seed: graded(6603))
        let n = Int.random(in: 2...6, using: &g)
        let dv = draw(n, -5, 5, &g)
        let w2 = Tensor(draw(n, -2, 2, &g), requiresGrad: true), data2 = Tensor(dv)
        (w2 * data2).sum().backward()
        expectGradient(of: "w in Σ w·data with drawn data \(dv)", w2, dv)
        #expect(data2.grad == nil, "data does not require grad and gets none")
        observe("the gradient of the drawn data (needs no grad)", data2.grad)
    }

    @Test func productsOfProducts() {
        let xs: [Float] = [0.5, -1.5, 2]
        let x = Tensor(xs, requiresGrad: true)
        (x * x * x * Tensor([1, 2, 3])).sum().backward()
        expectGradient(of: "x in Σ cᵢ·xᵢ³", x, zip(xs, [1, 2, 3] as [Float]).map { 3 * $0 * $0 * $1 })

        // Drawn from the grading seed: other x and c.
        var g = SeededGenerator(seed: graded(6604))
        let n = Int.random(in: 2...6, using: &g)
        let (xv, cv) = (draw(n, -2, 2, &g), draw(n, -3, 3, &g))
        let x2 = Tensor(xv, requiresGrad: true)
        (x2 * x2 * x2 * Tensor(cv)).sum().backward()
        expectGradient(of: "drawn x \(xv) in Σ cᵢ·xᵢ³ with c = \(cv)", x2, zip(xv, cv).map { 3 * $0 * $0 * $1 })
    }

    @Test func nonContiguousFactors() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], requiresGrad: true)
        let t = a.transposed()  // [3, 2]
        let b = Tensor([1, 10, 100, 1000, 10000, 100000], shape: [3, 2], requiresGrad: true)
        (t * b).sum().backward()
        expectGradient(of: "a (used through its transpose)", a, [1, 100, 10000, 10, 1000, 100000])
        expectGradient(of: "b", b, [1, 4, 2, 5, 3, 6])

        // Drawn from the grading seed: other sizes and values.
        var g = SeededGenerator(seed: graded(6605))
        let (rows, cols) = (Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g))
        let (av, bv) = (draw(rows * cols, -2, 2, &g), draw(rows * cols, -2, 2, &g))
        let a2 = Tensor(av, shape: [rows, cols], requiresGrad: true), b2 = Tensor(bv, shape: [cols, rows], requiresGrad: true)
        (a2.transposed() * b2).sum().backward()
        expectGradient(of: "drawn a [\(rows), \(cols)] used through its transpose, times drawn b [\(cols), \(rows)]", a2,
                       transposedValues(bv, rows: cols, cols: rows))
        expectGradient(of: "drawn b [\(cols), \(rows)] times the transpose of drawn a", b2, transposedValues(av, rows: rows, cols: cols))
    }
}

// MARK: - 6.7 quotient rule

@Suite struct Exercise_6_7 {
    @Test func broadcastOnBothSides() {
        let a = Tensor([2, 4], shape: [2, 1], requiresGrad: true)
        let b = Tensor([1, 2, 4], shape: [1, 3], requiresGrad: true)
        (a / b).sum().backward()
        expectGradient(of: "a [2, 1] in a/b with b [1, 3]", a, [1.75, 1.75])
        expectGradient(of: "b [1, 3] in a/b with a [2, 1]", b, [-6, -1.5, -0.375])

        // Drawn from the grading seed: other sizes and values.
        var g = SeededGenerator(seed: graded(6701))
        let (rows, cols) = (Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g))
        let (av, bv) = (draw(rows, -3, 3, &g), awayFromZero(cols, 0.5, 3, &g))
        let a2 = Tensor(av, shape: [rows, 1], requiresGrad: true), b2 = Tensor(bv, shape: [1, cols], requiresGrad: true)
        (a2 / b2).sum().backward()
        let inverseSum = Float(bv.reduce(0.0) { $0 + 1 / Double($1) }), aSum = av.reduce(0, +)
        expectGradient(of: "drawn a [\(rows), 1] in a/b with drawn b \(bv) as [1, \(cols)]", a2, [Float](repeating: inverseSum, count: rows))
        expectGradient(of: "drawn b \(bv) as [1, \(cols)] in a/b with drawn a [\(rows), 1]", b2, bv.map { -aSum / ($0 * $0) })
    }

    @Test func xOverXIsConstant() {
        let x = Tensor([0.5, -2, 3], requiresGrad: true)
        (x / x).sum().backward()
        expectGradient(of: "x in Σ x/x (a constant)", x, [0, 0, 0])

        // Drawn from the grading seed: Σ ((y·x)/x)² = Σ y², whatever x is.
        var g = SeededGenerator(seed: graded(6702))
        let n = Int.random(in: 2...6, using: &g)
        let (xv, yv) = (awayFromZero(n, 0.5, 3, &g), draw(n, -2, 2, &g))
        let x2 = Tensor(xv, requiresGrad: true), y2 = Tensor(yv, requiresGrad: true)
        ((y2 * x2) / x2).pow(2).sum().backward()
        expectGradient(of: "drawn x \(xv) in Σ ((y·x)/x)² (a function of y alone)", x2, [Float](repeating: 0, count: n))
        expectGradient(of: "drawn y \(yv) in Σ ((y·x)/x)² = Σ y²", y2, yv.map { 2 * $0 })
    }

    @Test func negativeAndSmallDenominators() {
        let a = Tensor([1, -3], requiresGrad: true), b = Tensor([-0.5, 0.01], requiresGrad: true)
        (a / b).sum().backward()
        expectGradient(of: "a", a, [-2, 100])
        expectGradient(of: "b", b, [-4, 30000], rtol: 1e-3)

        // Drawn from the grading seed: other numerators and small denominators of either sign.
        var g = SeededGenerator(seed: graded(6703))
        let n = Int.random(in: 2...5, using: &g)
        let (av, bv) = (draw(n, -4, 4, &g), awayFromZero(n, 0.01, 1, &g))
        let a2 = Tensor(av, requiresGrad: true), b2 = Tensor(bv, requiresGrad: true)
        (a2 / b2).sum().backward()
        expectGradient(of: "drawn a \(av) in Σ a/b with b = \(bv)", a2, bv.map { Float(1 / Double($0)) })
        expectGradient(of: "drawn b \(bv) in Σ a/b with a = \(av)", b2, zip(av, bv).map { Float(-Double($0) / (Double($1) * Double($1))) }, rtol: 1e-3)
    }

    @Test func againstFiniteDifferences() {
        let xs = uniform(6, 0.5, 2, seed: graded(67))
        let x = Tensor(xs, requiresGrad: true)
        (Tensor([1, 2, 3, 4, 5, 6]) / (x + 1)).sum().backward()
        let expected = zip(xs, 1...6).map { x, c in
            elementwiseDerivative({ Double(c) / ($0 + 1) }, at: [x])[0]
        }
        expectGradient(of: "x in Σ cᵢ / (xᵢ + 1)", x, expected, rtol: 1e-3)
    }
}

// MARK: - 6.8 tanh

@Suite struct Exercise_6_8 {
    @Test func againstFiniteDifferences() {
        let xs = uniform(12, -3, 3, seed: graded(68))
        let x = Tensor(xs, shape: [3, 4], requiresGrad: true)
        x.tanh().sum().backward()
        expectGradient(of: "x in Σ tanh(x)", x, elementwiseDerivative(Foundation.tanh, at: xs), atol: 1e-4, rtol: 1e-3)
    }

    @Test func saturatesWithoutNaN() {
        let x = Tensor([-100, -20, 20, 100, 0], requiresGrad: true)
        x.tanh().sum().backward()
        expectGradient(of: "x in Σ tanh(x) at ±20, ±100 and 0", x, [0, 0, 0, 0, 1])

        // Drawn from the grading seed: other saturated inputs, 0, and one moderate input.
        var g = SeededGenerator(seed: graded(6802))
        let moderate = Float.random(in: -2..<2, using: &g)
        let xv = awayFromZero(Int.random(in: 2...6, using: &g), 20, 1000, &g) + [0, moderate]
        let x2 = Tensor(xv, requiresGrad: true)
        x2.tanh().sum().backward()
        expectGradient(of: "x in Σ tanh(x) at \(xv)", x2, [Float](repeating: 0, count: xv.count - 2) + [1, 1 - tanhf(moderate) * tanhf(moderate)])
    }

    @Test func theIncomingGradientMultiplies() {
        let x = Tensor([0, 0.5], requiresGrad: true)
        (x.tanh() * Tensor([3, -2])).sum().backward()
        let t = Float(Foundation.tanh(0.5))
        expectGradient(of: "x in Σ cᵢ·tanh(xᵢ)", x, [3, -2 * (1 - t * t)])

        // Drawn from the grading seed: other x and c.
        var g = SeededGenerator(seed: graded(6803))
        let n = Int.random(in: 2...6, using: &g)
        let (xv, cv) = (draw(n, -2, 2, &g), draw(n, -3, 3, &g))
        let x2 = Tensor(xv, requiresGrad: true)
        (x2.tanh() * Tensor(cv)).sum().backward()
        expectGradient(of: "drawn x \(xv) in Σ cᵢ·tanh(xᵢ) with c = \(cv)", x2,
                       zip(xv, cv).map { x, c in Float(Double(c) * (1 - Foundation.tanh(Double(x)) * Foundation.tanh(Double(x)))) })
    }

    @Test func aTransposedInput() {
        let x = Tensor([0, 1, 2, -1, -2, 0.5], shape: [2, 3], requiresGrad: true)
        (x.transposed().tanh() * Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2])).sum().backward()
        let weights: [Float] = [1, 3, 5, 2, 4, 6]  // the transposed weights, in x's layout
        let expected = zip([0, 1, 2, -1, -2, 0.5] as [Float], weights).map { v, w in w * (1 - tanhf(v) * tanhf(v)) }
        expectGradient(of: "x through a transposed view", x, expected)

        // Drawn from the grading seed: another shape, input and weights.
        var g = SeededGenerator(seed: graded(6804))
        let (rows, cols) = (Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g))
        let (xv, wv) = (draw(rows * cols, -2, 2, &g), draw(rows * cols, -3, 3, &g))
        let x2 = Tensor(xv, shape: [rows, cols], requiresGrad: true)
        (x2.transposed().tanh() * Tensor(wv, shape: [cols, rows])).sum().backward()
        let inLayout = transposedValues(wv, rows: cols, cols: rows)
        expectGradient(of: "drawn x [\(rows), \(cols)] through a transposed view, times drawn weights [\(cols), \(rows)]", x2,
                       zip(xv, inLayout).map { v, w in Float(Double(w) * (1 - Foundation.tanh(Double(v)) * Foundation.tanh(Double(v)))) })
    }

    @Test func theRuleDoesNotCaptureItsOutput() {
        let x = Tensor([1, 2], requiresGrad: true)
        #expect(graphIsFreed { x.tanh() },
                "a tanh result nobody holds is still alive: its backward rule captures the output itself (a retain cycle) — use the saved y = out.detach()")
        x.tanh().sum().backward()
        expectGradient(of: "x in Σ tanh(x)", x, [1, 2].map { 1 - tanhf($0) * tanhf($0) })
        observe("whether a tanh result nobody holds is freed", graphIsFreed { x.tanh() })

        // Drawn from the grading seed: another input.
        var g = SeededGenerator(seed: graded(6805))
        let xv = draw(Int.random(in: 2...6, using: &g), -2, 2, &g)
        let x2 = Tensor(xv, requiresGrad: true)
        let freed = graphIsFreed { x2.tanh() }
        #expect(freed, "a tanh result nobody holds is still alive: its backward rule captures the output itself (a retain cycle) — use the saved y = out.detach()")
        observe("whether the tanh of drawn x, held by nobody, is freed", freed)
        x2.tanh().sum().backward()
        expectGradient(of: "drawn x \(xv) in Σ tanh(x)", x2, xv.map { Float(1 - Foundation.tanh(Double($0)) * Foundation.tanh(Double($0))) })
    }
}

// MARK: - 6.9 relu

@Suite struct Exercise_6_9 {
    @Test func zeroAndNegativeInputsBlockTheGradient() {
        let x = Tensor([-3, -1e-7, 0, 1e-7, 3], requiresGrad: true)
        x.relu().sum().backward()
        expectGradient(of: "x in Σ relu(x) at −3, −1e−7, 0, 1e−7, 3", x, [0, 0, 0, 1, 1])

        // Drawn from the grading seed: other inputs — multiples of 1/4 (some exactly 0) and tiny ones of either sign.
        var g = SeededGenerator(seed: graded(6901))
        let xv = (0..<Int.random(in: 6...12, using: &g)).map { _ -> Float in
            Bool.random(using: &g) ? Float(Int.random(in: -8...8, using: &g)) / 4 : Float(Int.random(in: -9...9, using: &g)) * 1e-7
        }
        let x2 = Tensor(xv, requiresGrad: true)
        x2.relu().sum().backward()
        expectGradient(of: "x in Σ relu(x) at \(xv)", x2, xv.map { $0 > 0 ? 1 : 0 })
    }

    @Test func theIncomingGradientPassesUnchanged() {
        let x = Tensor([1, -1, 2, -2], shape: [2, 2], requiresGrad: true)
        (x.relu() * Tensor([5, 6, 7, 8], shape: [2, 2])).sum().backward()
        expectGradient(of: "x in Σ cᵢ·relu(xᵢ)", x, [5, 0, 7, 0])

        // Drawn from the grading seed: other x (away from the kink) and c.
        var g = SeededGenerator(seed: graded(6902))
        let n = Int.random(in: 3...8, using: &g)
        let (xv, cv) = (awayFromZero(n, 0.1, 3, &g), draw(n, -9, 9, &g))
        let x2 = Tensor(xv, requiresGrad: true)
        (x2.relu() * Tensor(cv)).sum().backward()
        expectGradient(of: "drawn x \(xv) in Σ cᵢ·relu(xᵢ) with c = \(cv)", x2, zip(xv, cv).map { $0 > 0 ? $1 : 0 })
    }

    @Test func usedTwiceAndThroughAView() {
        let x = Tensor([1, -2, 3, -4, 5, -6], shape: [2, 3], requiresGrad: true)
        let r = x.transposed().relu()
        (r + r * r).sum().backward()
        // d/dx (r + r²) = 1 + 2x where x > 0.
        expectGradient(of: "x in Σ (r + r²) with r = relu(xᵀ)", x, [3, 0, 7, 0, 11, 0])

        // Drawn from the grading seed: another shape and input (away from the kink).
        var g = SeededGenerator(seed: graded(6903))
        let (rows, cols) = (Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g))
        let xv = awayFromZero(rows * cols, 0.1, 3, &g)
        let x2 = Tensor(xv, shape: [rows, cols], requiresGrad: true)
        let r2 = x2.transposed().relu()
        (r2 + r2 * r2).sum().backward()
        expectGradient(of: "drawn x [\(rows), \(cols)] in Σ (r + r²) with r = relu(xᵀ)", x2, xv.map { $0 > 0 ? 1 + 2 * $0 : 0 })
    }

    @Test func theRuleDoesNotCaptureItsOutput() {
        let x = Tensor([1, -2], requiresGrad: true)
        #expect(graphIsFreed { x.relu() },
                "a relu result nobody holds is still alive: its backward rule captures the output itself (a retain cycle) — use the saved y = out.detach()")
        x.relu().sum().backward()
        expectGradient(of: "x in Σ relu(x)", x, [1, 0])
        observe("whether a relu result nobody holds is freed", graphIsFreed { x.relu() })

        // Drawn from the grading seed: another input, weighted so the gradient shows the values.
        var g = SeededGenerator(seed: graded(6904))
        let n = Int.random(in: 3...8, using: &g)
        let (xv, cv) = (awayFromZero(n, 0.1, 3, &g), draw(n, -3, 3, &g))
        let x2 = Tensor(xv, requiresGrad: true)
        let freed = graphIsFreed { x2.relu() }
        #expect(freed, "a relu result nobody holds is still alive: its backward rule captures the output itself (a retain cycle) — use the saved y = out.detach()")
        observe("whether the relu of drawn x, held by nobody, is freed", freed)
        (x2.relu() * Tensor(cv)).sum().backward()
        expectGradient(of: "drawn x \(xv) in Σ cᵢ·relu(xᵢ) with c = \(cv)", x2, zip(xv, cv).map { $0 > 0 ? $1 : 0 })
    }
}

// MARK: - 6.10 matmul

@Suite struct Exercise_6_10 {
    @Test func againstTheFormulasOnRandomMatrices() {
        let av = uniform(12, -1, 1, seed: graded(610)), bv = uniform(20, -1, 1, seed: graded(611)), cv = uniform(15, -1, 1, seed: graded(612))
        let a = Tensor(av, shape: [3, 4], requiresGrad: true), b = Tensor(bv, shape: [4, 5], requiresGrad: true)
        (a.matmul(b) * Tensor(cv, shape: [3, 5])).sum().backward()
        // G = c: ∂/∂A = G·Bᵀ, ∂/∂B = Aᵀ·G.
        var bt = [Float](repeating: 0, count: 20), at = [Float](repeating: 0, count: 12)
        for i in 0..<4 { for j in 0..<5 { bt[j * 4 + i] = bv[i * 5 + j] } }
        for i in 0..<3 { for j in 0..<4 { at[j * 3 + i] = av[i * 4 + j] } }
        expectGradient(of: "A [3, 4] in Σ (A·B)⊙G", a, referenceProduct(cv, bt, m: 3, k: 5, n: 4))
        expectGradient(of: "B [4, 5] in Σ (A·B)⊙G", b, referenceProduct(at, cv, m: 4, k: 3, n: 5))
    }

    @Test func batchBroadcastBothWays() {
        let a = Tensor(uniform(2 * 1 * 2 * 3, -1, 1, seed: graded(613)), shape: [2, 1, 2, 3], requiresGrad: true)
        let b = Tensor(uniform(3 * 3 * 2, -1, 1, seed: graded(614)), shape: [3, 3, 2], requiresGrad: true)
        a.matmul(b).sum().backward()
        // G is all ones. ∂/∂a[i, 0] = Σⱼ 1·b[j]ᵀ: each row of a[i, 0] gets the row sums of Σⱼ b[j].
        let bv = b.toArray()
        var rowSums = [Float](repeating: 0, count: 3)
        for j in 0..<3 { for r in 0..<3 { rowSums[r] += bv[j * 6 + r * 2] + bv[j * 6 + r * 2 + 1] } }
        expectGradient(of: "a [2, 1, 2, 3], broadcast over 3 batch entries", a, [[Float]](repeating: rowSums, count: 4).flatMap { $0 })
        // ∂/∂b[j] = Σᵢ a[i, 0]ᵀ·1: row p of it is the column sum of a over i and rows.
        let av = a.toArray()
        var colSums = [Float](repeating: 0, count: 3)
        for i in 0..<2 { for r in 0..<2 { for p in 0..<3 { colSums[p] += av[i * 6 + r * 3 + p] } } }
        expectGradient(of: "b [3, 3, 2], broadcast over 2 batch entries", b,
                       [[Float]](repeating: colSums.flatMap { [$0, $0] }, count: 3).flatMap { $0 })
    }

    @Test func vectors() {
        let u = Tensor([1, 2, 3], requiresGrad: true), v = Tensor([4, 5, 6], requiresGrad: true)
        u.matmul(v).backward()
        expectGradient(of: "u in the dot product u·v", u, [4, 5, 6])
        expectGradient(of: "v in the dot product u·v", v, [1, 2, 3])
        let m = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], requiresGrad: true)
        let w = Tensor([1, -1, 2], requiresGrad: true)
        (m.matmul(w) * Tensor([1, 10])).sum().backward()
        expectGradient(of: "M [2, 3] in Σ cᵢ·(M·w)ᵢ", m, [1, -1, 2, 10, -10, 20])
        expectGradient(of: "w [3] in Σ cᵢ·(M·w)ᵢ", w, [41, 52, 63])

        // Drawn from the grading seed: other vectors, another matrix and other weights.
        var g = SeededGenerator(seed: graded(61003))
        let n = Int.random(in: 2...6, using: &g)
        let (uv, vv) = (draw(n, -2, 2, &g), draw(n, -2, 2, &g))
        let u2 = Tensor(uv, requiresGrad: true), v2 = Tensor(vv, requiresGrad: true)
        u2.matmul(v2).backward()
        expectGradient(of: "drawn u in the dot product u·v with v = \(vv)", u2, vv)
        expectGradient(of: "drawn v in the dot product u·v with u = \(uv)", v2, uv)
        let (rows, cols) = (Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g))
        let (mv, wv, cv) = (draw(rows * cols, -2, 2, &g), draw(cols, -2, 2, &g), draw(rows, -3, 3, &g))
        let m2 = Tensor(mv, shape: [rows, cols], requiresGrad: true), w2 = Tensor(wv, requiresGrad: true)
        (m2.matmul(w2) * Tensor(cv)).sum().backward()
        expectGradient(of: "drawn M [\(rows), \(cols)] in Σ cᵢ·(M·w)ᵢ with c = \(cv)", m2, referenceProduct(cv, wv, m: rows, k: 1, n: cols))
        expectGradient(of: "drawn w [\(cols)] in Σ cᵢ·(M·w)ᵢ with c = \(cv)", w2, referenceProduct(cv, mv, m: 1, k: rows, n: cols))
    }

    @Test func transposedOperandsAndOneSideWithoutGrad() {
        let w = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], requiresGrad: true)
        let x = Tensor([1, 0, 2, 1], shape: [2, 2])
        (x.matmul(w).transposed().matmul(Tensor([1, 1], shape: [2, 1]))).sum().backward()
        // Σ over everything of x·w: ∂/∂w = xᵀ·1 = column sums of x, repeated along each row.
        expectGradient(of: "w through a transpose, with x needing no grad", w, [3, 3, 3, 1, 1, 1])
        #expect(x.grad == nil, "x does not require grad and gets none")
        observe("the gradient of x (needs no grad)", x.grad)

        // Drawn from the grading seed: other sizes, x and w.
        var g = SeededGenerator(seed: graded(61004))
        let (p, q, s) = (Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g))
        let xv = quarters(p * q, &g)
        let w2 = Tensor(draw(q * s, -2, 2, &g), shape: [q, s], requiresGrad: true), x2 = Tensor(xv, shape: [p, q])
        (x2.matmul(w2).transposed().matmul(Tensor.ones([p, 1]))).sum().backward()
        let columnSums = (0..<q).map { j in (0..<p).reduce(Float(0)) { $0 + xv[$1 * q + j] } }
        expectGradient(of: "drawn w [\(q), \(s)] through a transpose, with drawn x \(xv) as [\(p), \(q)] needing no grad", w2,
                       columnSums.flatMap { [Float](repeating: $0, count: s) })
        #expect(x2.grad == nil, "x does not require grad and gets none")
        observe("the gradient of the drawn x (needs no grad)", x2.grad)
    }

    @Test func theGraphIsFreed() {
        let w = Tensor([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
        #expect(graphIsFreed { Tensor([1, 1, 1, 1], shape: [2, 2]).matmul(w).matmul(w) },
                "a matmul result nobody holds is still alive: a retain cycle through its backward rule")
        Tensor([1, 0, 0, 1], shape: [2, 2]).matmul(w).sum().backward()
        expectGradient(of: "w in Σ I·w", w, [1, 1, 1, 1])
        observe("whether a matmul result nobody holds is freed", graphIsFreed { Tensor([1, 1, 1, 1], shape: [2, 2]).matmul(w).matmul(w) })

        // Drawn from the grading seed: another weight and input.
        var g = SeededGenerator(seed: graded(61005))
        let (m, n) = (Int.random(in: 1...4, using: &g), Int.random(in: 2...4, using: &g))
        let xv = draw(m * n, -2, 2, &g)
        let w2 = Tensor(draw(n * n, -2, 2, &g), shape: [n, n], requiresGrad: true)
        let freed = graphIsFreed { Tensor(xv, shape: [m, n]).matmul(w2).matmul(w2) }
        #expect(freed, "a matmul result nobody holds is still alive: a retain cycle through its backward rule")
        observe("whether x·w·w for drawn x and w, held by nobody, is freed", freed)
        Tensor(xv, shape: [m, n]).matmul(w2).sum().backward()
        let columnSums = (0..<n).map { j in (0..<m).reduce(Float(0)) { $0 + xv[$1 * n + j] } }
        expectGradient(of: "drawn w [\(n), \(n)] in Σ x·w with drawn x [\(m), \(n)]", w2, columnSums.flatMap { [Float](repeating: $0, count: n) })
    }
}
