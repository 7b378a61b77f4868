import Testing
import Kindling

// Lesson 3 — elementwise ops and broadcasting (Lessons/03-broadcasting.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson03           all of lesson 3
//     swift test --filter Exercise_3_4       one exercise
//
// The suites run in order, one exercise after another; an exercise that is not
// written yet stops the run with "Exercise 3.x is not done yet". Each
// exercise's tests use only that exercise and earlier ones. (Until 3.6 is done,
// adding a row to a contiguous matrix — `x + bias` — stops with 3.6's message,
// so the tests of 3.4 and 3.5 use other shapes or non-contiguous operands.)

// MARK: - Helpers: a reference the tests compute for themselves

/// Every multi-index of `shape` in row-major order.
private func allIndices(_ shape: [Int]) -> [[Int]] {
    var result: [[Int]] = [[]]
    for n in shape { result = result.flatMap { prefix in (0..<n).map { prefix + [$0] } } }
    return result
}

/// The row-major position of `index` in `shape`, written out by hand.
private func rowMajor(_ index: [Int], _ shape: [Int]) -> Int {
    zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
}

/// The elements of a row-major `values` of `shape` broadcast to `target`, by
/// the rule itself: missing leading axes and size-1 axes always read index 0.
private func broadcastReference(_ values: [Float], _ shape: [Int], to target: [Int]) -> [Float] {
    let lead = target.count - shape.count
    return allIndices(target).map { index in
        let source = shape.indices.map { shape[$0] == 1 ? 0 : index[lead + $0] }
        return values[rowMajor(source, shape)]
    }
}

/// A tensor that reads `values` in row-major order but is NOT contiguous: it is
/// the transpose of a contiguous tensor holding them column by column.
private func transposedHolding(_ values: [Float], rows: Int, columns: Int) -> Tensor {
    var stored = [Float](repeating: 0, count: values.count)
    for r in 0..<rows { for c in 0..<columns { stored[c * rows + r] = values[r * columns + c] } }
    return Tensor(stored, shape: [columns, rows]).transposed()
}

@Suite("Lesson03", .serialized) struct Lesson03 {

    // MARK: 3.1 — broadcast shapes

    @Suite("3.1 broadcastShapes") struct Exercise_3_1 {
        @Test func alignsAtTheLastAxis() {
            #expect(broadcastShapes([3, 1], [4]) == [3, 4],
                    "[3, 1] and [4]: [4] counts as [1, 4], so the result is [3, 4]; got \(broadcastShapes([3, 1], [4]))")
            #expect(broadcastShapes([2, 3, 4], [4]) == [2, 3, 4], "got \(broadcastShapes([2, 3, 4], [4]))")
            #expect(broadcastShapes([], [2, 2]) == [2, 2], "a scalar broadcasts to anything, got \(broadcastShapes([], [2, 2]))")
        }

        @Test func sizeZeroWinsOverOne() {
            for (a, b) in [([1], [0]), ([0], [1]), ([2, 1], [1, 0])] {
                let got = broadcastShapes(a, b)
                let expected = a.count == 1 ? [0] : [2, 0]
                #expect(got == expected,
                        "broadcasting \(a) with \(b) gives \(expected), got shape \(got)\(got != expected && got.allSatisfy({ $0 > 0 }) ? " — a size-1 axis takes the other's size, even 0: the size is `da == 1 ? db : da`, not `max(da, db)`" : "")")
            }
        }

        @Test func shorterShapesGetLeadingOnes() {
            let got = broadcastShapes([2], [2, 1])
            #expect(got == [2, 2],
                    "[2] counts as [1, 2], so [2] with [2, 1] gives [2, 2]; got \(got)\(got == [2, 1] ? " — the shapes were lined up at their first axis: line them up at the last axis" : "")")
        }

        @Test func sizeOneStretches() {
            #expect(broadcastShapes([1, 3], [2, 1]) == [2, 3], "got \(broadcastShapes([1, 3], [2, 1]))")
            #expect(broadcastShapes([5, 1, 4], [3, 1]) == [5, 3, 4], "got \(broadcastShapes([5, 1, 4], [3, 1]))")
            #expect(broadcastShapes([2, 3], [2, 3]) == [2, 3])
        }

        @Test func incompatibleShapesStopWithBothShapes() async {
            #expect(broadcastShapes([4, 1], [1, 3]) == [4, 3])
            let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
                _ = broadcastShapes([2, 3], [4], op: "add")
            }
            let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
            #expect(message.contains("add") && message.contains("[2, 3]") && message.contains("[4]"),
                    "[2, 3] and [4] cannot broadcast (3 vs 4): stop with require(…) whose message names the op and both shapes; the message was: \(message.suffix(300))")
        }
    }

    // MARK: 3.2 — broadcast strides

    @Suite("3.2 broadcastStrides") struct Exercise_3_2 {
        @Test func newAndStretchedAxesGetStrideZero() {
            let row = broadcastStrides(shape: [3], strides: [1], to: [2, 3])
            #expect(row == [0, 1], "a row [3] read as [2, 3]: the new leading axis gets stride 0, got \(row)")
            let column = broadcastStrides(shape: [2, 1], strides: [1, 1], to: [2, 3])
            #expect(column == [1, 0], "a column [2, 1] read as [2, 3]: the stretched axis gets stride 0, got \(column)\(column.count == 2 && column[1] != 0 ? " — a stretched size-1 axis gets stride 0 even when its own stride is not 0 (a size-1 axis may have any stride)" : "")")
            let same = broadcastStrides(shape: [3, 2], strides: [1, 3], to: [3, 2])
            #expect(same == [1, 3], "axes that are not stretched keep their strides, got \(same)\(same == [2, 1] ? " — those are fresh row-major strides: keep the operand's own strides (here a transposed view's)" : "")")
        }

        @Test func expandedViewsRepeatWithoutCopying() {
            let row = Tensor([1, 2, 3])
            let rows = row.expanded(to: [2, 3])
            #expect(rows.strides == [0, 1] && rows.storage === row.storage, "expanded is a view with stride 0, got strides \(rows.strides)")
            #expect(rows.toArray() == [1, 2, 3, 1, 2, 3], "got \(rows.toArray())")
            let columns = Tensor([1, 2], shape: [2, 1]).expanded(to: [2, 3])
            #expect(columns.toArray() == [1, 1, 1, 2, 2, 2], "got \(columns.toArray())")
        }
    }

    // MARK: 3.3 — the odometer over two layouts

    @Suite("3.3 forEachOffsetPair") struct Exercise_3_3 {
        @Test func walksTwoLayoutsInStep() {
            // A: a contiguous 2×3 matrix at offset 0. B: a transposed layout at offset 10.
            var visits: [[Int]] = []
            forEachOffsetPair(shape: [2, 3], stridesA: [3, 1], offsetA: 0, stridesB: [1, 2], offsetB: 10) { i, pa, pb in
                visits.append([i, pa, pb])
            }
            let expected = [[0, 0, 10], [1, 1, 12], [2, 2, 14], [3, 3, 11], [4, 4, 13], [5, 5, 15]]
            #expect(visits == expected, "each visit is [i, offset in A, offset in B]: expected \(expected), got \(visits)")
        }

        @Test func rankThreeRollsBackBothOffsets() {
            // A: contiguous [2, 2, 3] at offset 0. B: the same shape, axes stored in another order, at offset 100.
            let shape = [2, 2, 3], sa = [6, 3, 1], sb = [1, 2, 4]
            var visits: [[Int]] = []
            forEachOffsetPair(shape: shape, stridesA: sa, offsetA: 0, stridesB: sb, offsetB: 100) { i, pa, pb in
                visits.append([i, pa, pb])
            }
            let expected = allIndices(shape).enumerated().map { i, index in
                [i, zip(index, sa).reduce(0) { $0 + $1.0 * $1.1 }, 100 + zip(index, sb).reduce(0) { $0 + $1.0 * $1.1 }]
            }
            let first = zip(visits, expected).first { $0.0 != $0.1 }
            var cause = ""
            if let (got, want) = first {
                let which = got[1] != want[1] && got[2] != want[2] ? "both offsets" : got[1] != want[1] ? "A's offset" : got[2] != want[2] ? "B's offset" : ""
                if !which.isEmpty {
                    cause = " — \(which) went wrong after an axis rolled over: take back strides[axis] · shape[axis] from both offsets"
                }
            }
            #expect(visits == expected, "each visit is [i, offset in A, offset in B]; the first wrong one is \(first.map { "\($0.0), expected \($0.1)" } ?? "missing (\(visits.count) of \(expected.count) visits)")\(cause)")
        }

        @Test func assignWritesThroughAView() {
            // `assign` copies element by element with forEachOffsetPair.
            let m = Tensor.zeros([3, 2])
            m.transposed().assign(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]))
            #expect(m.toArray() == [1, 4, 2, 5, 3, 6], "writing a 2×3 matrix into the transpose of a 3×2 one, got \(m.toArray())")
        }

        @Test func scalarsAndEmptyShapes() {
            var visits: [[Int]] = []
            forEachOffsetPair(shape: [], stridesA: [], offsetA: 4, stridesB: [], offsetB: 7) { visits.append([$0, $1, $2]) }
            #expect(visits == [[0, 4, 7]], "a scalar is one element, at each operand's offset; got \(visits)")
            var count = 0
            forEachOffsetPair(shape: [2, 0, 3], stridesA: [3, 3, 1], offsetA: 0, stridesB: [0, 0, 1], offsetB: 0) { _, _, _ in count += 1 }
            #expect(count == 0, "a shape with a 0 has no elements: the body must never run, it ran \(count) times")
        }
    }

    // MARK: 3.4 — the general binary kernel

    @Suite("3.4 zipBroadcasting") struct Exercise_3_4 {
        @Test func columnPlusRow() {
            let column = Tensor([1, 2, 3], shape: [3, 1]), row = Tensor([10, 20, 30, 40], shape: [1, 4])
            let sum = column + row
            #expect(sum.shape == [3, 4], "[3, 1] + [1, 4] has shape [3, 4], got \(sum.shape)")
            #expect(sum.toArray() == [11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43], "got \(sum.toArray())")
        }

        @Test func nonContiguousOperands() {
            let a = transposedHolding([1, 2, 3, 4, 5, 6], rows: 2, columns: 3)
            let b = Tensor([10, 20, 30, 40, 50, 60], shape: [2, 3])
            #expect(!a.isContiguous)
            #expect((a * b).toArray() == [10, 40, 90, 160, 250, 360], "got \((a * b).toArray())")
            let product = (a * b).toArray()
            #expect(product != [10, 80, 60, 200, 150, 360],
                    "a is a transposed view: its element i is not at storage slot i — read a at the offset the walk hands you (pa[p]), not at i")
            let difference = (b - a).toArray()
            #expect(difference == [9, 18, 27, 36, 45, 54], "b − a, in that order: got \(difference)\(difference == [-9, -18, -27, -36, -45, -54] ? " — every subtraction came out negated: call f(a, b), not f(b, a)" : "")")
        }

        @Test func aViewThatStartsInTheMiddle() {
            // Rows 1..<4 of a column: a view at offset 1 holding 1, 2, 3.
            let column = Tensor([0, 1, 2, 3, 4], shape: [5, 1]).sliced(axis: 0, from: 1, to: 4)
            let row = Tensor([10, 20], shape: [1, 2])
            let sum = (column + row).toArray()
            #expect(sum == [11, 21, 12, 22, 13, 23],
                    "a view at offset 1 holding [1, 2, 3], plus [10, 20]: expected [11, 21, 12, 22, 13, 23], got \(sum)\(sum == [12, 22, 13, 23, 14, 24] ? " — a.offset was added a second time: the offsets the walk hands you already include it" : "")")
        }

        @Test func comparisonsBroadcastToo() {
            let x = Tensor([1, 5, 3], shape: [3, 1]), thresholds = Tensor([2, 4], shape: [1, 2])
            let mask = x .> thresholds
            #expect(mask.shape == [3, 2] && mask.toArray() == [0, 0, 1, 1, 1, 0],
                    "1 where x > threshold: expected [3, 2] holding [0, 0, 1, 1, 1, 0], got \(mask.shape) holding \(mask.toArray())")
        }
    }

    // MARK: 3.5 — where

    @Suite("3.5 where") struct Exercise_3_5 {
        @Test func picksByTheMask() {
            let mask = Tensor([1, 0, 0, 1], shape: [2, 2])
            let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([-1, -2, -3, -4], shape: [2, 2])
            let picked = Tensor.where(mask, a, b)
            #expect(picked.toArray() == [1, -2, -3, 4], "a where the mask is non-zero, b elsewhere: got \(picked.toArray())\(picked.toArray() == [-1, 2, 3, -4] ? " — a and b are swapped: a non-zero mask picks a" : "")")
        }

        @Test func allThreeBroadcast() {
            let picked = Tensor.where(Tensor([1, 0]), Tensor([5, 6], shape: [2, 1]), Tensor(scalar: 0))
            #expect(picked.shape == [2, 2] && picked.toArray() == [5, 0, 6, 0],
                    "mask [2] (read as [1, 2]), a [2, 1], b a scalar: expected [2, 2] holding [5, 0, 6, 0], got \(picked.shape) holding \(picked.toArray())")
        }

        @Test func theBranchNotPickedCannotLeak() {
            let a = Tensor([Float.nan, 2, .infinity, 4]), b = Tensor([0, -Float.infinity, 0, .nan])
            let picked = Tensor.where(Tensor([0, 1, 0, 1]), a, b).toArray()
            #expect(picked.map { $0.isNaN ? "nan" : "\($0)" } == ["0.0", "2.0", "0.0", "4.0"],
                    "where([0, 1, 0, 1], [nan, 2, inf, 4], [0, −inf, 0, nan]) is [0, 2, 0, 4], got \(picked)\(picked.contains { $0.isNaN } ? " — a NaN or ∞ from the branch not picked leaked in: pick, do not blend (mask·a + (1 − mask)·b makes 0·∞ and 0·NaN NaN)" : "")")
        }

        @Test func leakyReluByHand() {
            let x = Tensor([-1, 2, -3, 4])
            let y = Tensor.where(x .> 0, x, x * 0.1)
            let expected: [Float] = [-0.1, 2, -0.3, 4]
            #expect(zip(y.toArray(), expected).allSatisfy { Swift.abs($0 - $1) < 1e-6 }, "expected \(expected), got \(y.toArray())")
        }
    }

    // MARK: 3.6 — the bias fast path

    @Suite("3.6 isTrailingBlock") struct Exercise_3_6 {
        @Test func rowsAreTrailingBlocks() {
            #expect(isTrailingBlock([3], of: [4, 3]), "a row of 3 repeats as one block in [4, 3]")
            #expect(isTrailingBlock([1, 3], of: [4, 3]), "leading 1s do not matter: [1, 3] is a row too — drop them (drop(while:)) before comparing")
            #expect(isTrailingBlock([3, 4], of: [2, 3, 4]), "a whole [3, 4] matrix repeats as one block in [2, 3, 4]")
        }

        @Test func columnsAreNot() {
            #expect(!isTrailingBlock([4, 1], of: [4, 3]), "a column [4, 1] repeats each value 3 times: not one block")
            #expect(!isTrailingBlock([2, 1, 4], of: [2, 3, 4]), "[2, 1, 4] in [2, 3, 4]: a size-1 axis in the middle is stretched, so not one block — compare all of the rest with big.suffix(rest.count), not only the last axis")
        }

        @Test func biasAddIsRight() {
            let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]), bias = Tensor([10, 20, 30])
            #expect((x + bias).toArray() == [11, 22, 33, 14, 25, 36], "got \((x + bias).toArray())")
            let column = Tensor([100, 200], shape: [2, 1])
            #expect((x + column).toArray() == [101, 102, 103, 204, 205, 206], "a column is not a row: got \((x + column).toArray())")
        }
    }

    // MARK: Milestone — random broadcasts

    // The end of lesson 3: random pairs of broadcastable shapes, operands that
    // are contiguous, transposed or expanded views, and every arithmetic op and
    // `where`, each checked element by element against the broadcasting rule
    // written out index by index.
    @Suite("Milestone: random broadcasts") struct Properties {
        /// Two random shapes that broadcast together, and their result.
        private static func randomPair(_ g: inout SeededGenerator) -> ([Int], [Int], [Int]) {
            let rank = Int.random(in: 0...4, using: &g)
            let target = (0..<rank).map { _ in Int.random(in: 1...4, using: &g) }
            func operand(_ g: inout SeededGenerator) -> [Int] {
                let dropped = Int.random(in: 0...rank, using: &g)
                return target.dropFirst(dropped).map { Bool.random(using: &g) ? 1 : $0 }
            }
            let a = operand(&g), b = operand(&g)
            // The broadcast of the two, by the rule (some target axes may be 1 in both).
            let r = Swift.max(a.count, b.count)
            let pa = [Int](repeating: 1, count: r - a.count) + a, pb = [Int](repeating: 1, count: r - b.count) + b
            return (a, b, zip(pa, pb).map { Swift.max($0, $1) })
        }

        /// A random operand of `shape` with elements drawn from `range`, in a random
        /// layout: contiguous, a permuted view of a contiguous tensor, or an expanded
        /// (stride-0) view. Returns the tensor, its elements in row-major order, and
        /// a description of the layout.
        private static func randomOperand(_ shape: [Int], _ range: ClosedRange<Int>,
                                          _ g: inout SeededGenerator) -> (Tensor, [Float], String) {
            func draw(_ n: Int, _ g: inout SeededGenerator) -> [Float] {
                (0..<n).map { _ in Float(Int.random(in: range, using: &g)) }
            }
            let kind = Int.random(in: 0..<3, using: &g)
            if kind == 2, let axis = shape.indices.filter({ shape[$0] > 1 }).randomElement(using: &g) {
                var small = shape
                small[axis] = 1
                let values = draw(small.reduce(1, *), &g)
                return (Tensor(values, shape: small).expanded(to: shape), broadcastReference(values, small, to: shape),
                        "expanded view of \(small)")
            }
            let values = draw(shape.reduce(1, *), &g)
            guard kind == 1 else { return (Tensor(values, shape: shape), values, "contiguous") }
            let order = Array(0..<shape.count).shuffled(using: &g)
            var baseShape = shape
            for (i, a) in order.enumerated() { baseShape[a] = shape[i] }
            var stored = [Float](repeating: 0, count: values.count)
            for index in allIndices(shape) {
                var base = [Int](repeating: 0, count: shape.count)
                for (i, a) in order.enumerated() { base[a] = index[i] }
                stored[rowMajor(base, baseShape)] = values[rowMajor(index, shape)]
            }
            return (Tensor(stored, shape: baseShape).permuted(order), values, "permuted(\(order)) view")
        }

        @Test func arithmeticMatchesTheRule() {
            var g = SeededGenerator(seed: 31)
            for trial in 0..<300 {
                let (sa, sb, target) = Self.randomPair(&g)
                let (a, va, la) = Self.randomOperand(sa, -9...9, &g), (b, vb, lb) = Self.randomOperand(sb, 1...9, &g)
                let ea = broadcastReference(va, sa, to: target), eb = broadcastReference(vb, sb, to: target)
                let label = "trial \(trial) (seed 31): a \(sa) (\(la)), b \(sb) (\(lb))"
                #expect(broadcastShapes(sa, sb) == target, "\(label): broadcastShapes should be \(target)")
                let cases: [(String, Tensor, [Float])] = [
                    ("a + b", a + b, zip(ea, eb).map { $0 + $1 }),
                    ("a - b", a - b, zip(ea, eb).map { $0 - $1 }),
                    ("b * a", b * a, zip(eb, ea).map { $0 * $1 }),
                    ("a / b", a / b, zip(ea, eb).map { $0 / $1 }),
                    ("a .> b", a .> b, zip(ea, eb).map { $0 > $1 ? 1 : 0 }),
                    ("where(a .> 0, a, b)", Tensor.where(a .> 0, a, b), zip(ea, eb).map { $0 > 0 ? $0 : $1 }),
                ]
                for (name, result, expected) in cases {
                    let ok = result.shape == target && result.toArray() == expected
                    #expect(ok, "\(label): \(name) should have shape \(target) and elements \(expected.prefix(12)); got \(result.shape), \(result.toArray().prefix(12))")
                    if !ok { return }  // one failing case is enough to read
                }
            }
        }
    }
}
