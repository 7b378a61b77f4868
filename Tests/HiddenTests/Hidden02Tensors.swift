import Testing
import Kindling

// Hidden tests of lesson 2 (tensors: shapes, strides, offsets, views). The
// grader maps each test to its exercise by the suite name `Exercise_2_N`; each
// suite uses only its own exercise and earlier ones. They probe the edges the
// visible tests leave out: scalars, zero sizes, size-1 axes with odd strides,
// existing offsets, steps larger than the axis, every permutation of rank 4.
//
// Every test also observes the values the learner's code produced (see
// Support/Observe.swift), and runs a small case drawn from the grading seed
// next to its hand-worked one.

// MARK: - The tests' own reference arithmetic (independent of the exercises)

/// Contiguity by brute force: row-major traversal reads slots 0, 1, 2, … (relative to the offset).
private func referenceContiguous(shape: [Int], strides: [Int]) -> Bool {
    var expected = 0
    for index in indicesOf(shape) {
        if zip(index, strides).reduce(0, { $0 + $1.0 * $1.1 }) != expected { return false }
        expected += 1
    }
    return true
}

/// All permutations of `0..<n`.
private func permutations(_ n: Int) -> [[Int]] {
    guard n > 0 else { return [[]] }
    return permutations(n - 1).flatMap { p in (0...p.count).map { i in var q = p; q.insert(n - 1, at: i); return q } }
}

/// A tensor whose element at each storage slot holds that slot's number.
private func numberedTensor(_ shape: [Int]) -> Tensor {
    Tensor((0..<shape.reduce(1, *)).map { Float($0) }, shape: shape)
}

/// A random shape of `rank` axes with sizes in `sizes`.
private func randomShape(_ rank: Int, _ sizes: ClosedRange<Int>, _ g: inout SeededGenerator) -> [Int] {
    (0..<rank).map { _ in Int.random(in: sizes, using: &g) }
}

/// Observes a list of integer lists (shapes, strides) as their lengths and their entries in order.
private func observeLists(_ what: String, _ lists: [[Int]]) {
    observe("\(what) — their lengths", lists.map(\.count))
    observe("\(what) — their entries, one list after another", lists.flatMap { $0 })
}

/// Observes yes/no answers as 1 (yes) and 0 (no).
private func observeAnswers(_ what: String, _ answers: [Bool]) {
    observe("\(what) (1 = yes, 0 = no)", answers.map { $0 ? 1 : 0 })
}

/// Observes a layout (shape, strides, offset).
private func observeLayout(_ what: String, _ layout: (shape: [Int], strides: [Int], offset: Int)) {
    observe("shape of \(what)", layout.shape)
    observe("strides of \(what)", layout.strides)
    observe("offset of \(what)", layout.offset)
}

// MARK: - 2.1 elementCount

@Suite struct Exercise_2_1 {
    @Test func aScalarHoldsOneNumber() {
        let n = elementCount([])
        observe("elementCount([])", n)
        #expect(n == 1, "shape [] (a scalar) holds exactly 1 number, got \(n)\(n == 0 ? " — a product starts from 1, not 0" : "")")

        // Drawn from the grading seed: vectors, whose count is 1 times their size.
        var g = SeededGenerator(seed: graded(311))
        let sizes = (0..<3).map { _ in Int.random(in: 2...50, using: &g) }
        let counts = sizes.map { elementCount([$0]) }
        observe("elementCount of the shapes \(sizes.map { [$0] })", counts)
        #expect(counts == sizes, "shapes \(sizes.map { [$0] }) hold \(sizes) numbers, got \(counts)\(counts.allSatisfy { $0 == 0 } ? " — a product starts from 1, not 0" : "")")
    }

    @Test func aZeroSizeAnywhereMeansNoElements() {
        let shapes = [[0], [0, 5], [5, 0], [2, 3, 0, 4], [0, 0]]
        observe("elementCount of \(shapes)", shapes.map { elementCount($0) })
        for shape in shapes {
            #expect(elementCount(shape) == 0, "shape \(shape) has a size-0 axis: 0 elements, got \(elementCount(shape))")
        }

        // Drawn from the grading seed: shapes with a 0 somewhere, and the same shapes with that 0 made another size.
        var g = SeededGenerator(seed: graded(312))
        var empty: [[Int]] = [], full: [[Int]] = []
        for _ in 0..<4 {
            var shape = randomShape(Int.random(in: 1...4, using: &g), 1...6, &g)
            let axis = Int.random(in: 0...shape.count, using: &g)
            shape.insert(0, at: axis)
            empty.append(shape)
            shape[axis] = Int.random(in: 2...6, using: &g)
            full.append(shape)
        }
        let emptyCounts = empty.map { elementCount($0) }, fullCounts = full.map { elementCount($0) }
        observe("elementCount of \(empty)", emptyCounts)
        observe("elementCount of \(full)", fullCounts)
        #expect(emptyCounts.allSatisfy { $0 == 0 }, "shapes \(empty) have a size-0 axis: 0 elements each, got \(emptyCounts)")
        #expect(fullCounts == full.map { $0.reduce(1, *) }, "elementCount of \(full) should be \(full.map { $0.reduce(1, *) }), got \(fullCounts)")
    }

    @Test func sizeOneAxesChangeNothing() {
        observe("elementCount of [1], [1, 1, 1], [1, 6, 1]", [elementCount([1]), elementCount([1, 1, 1]), elementCount([1, 6, 1])])
        #expect(elementCount([1]) == 1 && elementCount([1, 1, 1]) == 1 && elementCount([1, 6, 1]) == 6,
                "size-1 axes multiply by 1: expected 1, 1, 6; got \(elementCount([1])), \(elementCount([1, 1, 1])), \(elementCount([1, 6, 1]))")

        // Drawn from the grading seed: shapes with size-1 axes inserted anywhere.
        var g = SeededGenerator(seed: graded(313))
        let shapes: [[Int]] = (0..<4).map { _ in
            var shape = randomShape(Int.random(in: 1...3, using: &g), 2...9, &g)
            for _ in 0..<Int.random(in: 1...3, using: &g) { shape.insert(1, at: Int.random(in: 0...shape.count, using: &g)) }
            return shape
        }
        let counts = shapes.map { elementCount($0) }
        observe("elementCount of \(shapes)", counts)
        #expect(counts == shapes.map { $0.reduce(1, *) }, "size-1 axes multiply by 1: elementCount of \(shapes) should be \(shapes.map { $0.reduce(1, *) }), got \(counts)")
    }

    @Test func largeAndHighRankShapes() {
        let rank8 = [Int](repeating: 2, count: 8)
        observe("elementCount of [1000, 1000, 3] and of eight axes of size 2", [elementCount([1000, 1000, 3]), elementCount(rank8)])
        #expect(elementCount([1000, 1000, 3]) == 3_000_000, "got \(elementCount([1000, 1000, 3]))")
        #expect(elementCount(rank8) == 256, "eight axes of size 2: 2⁸ = 256, got \(elementCount(rank8))")

        // Drawn from the grading seed: another large shape and another rank-8 one.
        var g = SeededGenerator(seed: graded(314))
        let shapes = [[Int.random(in: 500...2000, using: &g), Int.random(in: 500...2000, using: &g), Int.random(in: 1...5, using: &g)],
                      randomShape(8, 1...4, &g)]
        let counts = shapes.map { elementCount($0) }
        observe("elementCount of \(shapes)", counts)
        #expect(counts == shapes.map { $0.reduce(1, *) }, "elementCount of \(shapes) should be \(shapes.map { $0.reduce(1, *) }), got \(counts)")
    }

    @Test func randomShapes() {
        var g = SeededGenerator(seed: graded(31))
        var counts: [Int] = []
        for _ in 0..<300 {
            let shape = (0..<Int.random(in: 0...5, using: &g)).map { _ in Int.random(in: 0...6, using: &g) }
            let expected = shape.reduce(1, *), got = elementCount(shape)
            counts.append(got)
            #expect(got == expected, "elementCount(\(shape)) should be \(expected), got \(got)")
            if got != expected { return }  // one failing case is enough to read
        }
        observe("elementCount of 300 random shapes", counts)
    }
}

// MARK: - 2.2 contiguousStrides

@Suite struct Exercise_2_2 {
    @Test func rowMajorNotColumnMajor() {
        let s = contiguousStrides([2, 3, 4])
        observe("contiguousStrides([2, 3, 4])", s)
        let hint = s == [1, 2, 6] ? " — those are column-major (Fortran) strides: the *last* axis must step by 1"
            : s == [1, 4, 12] ? " — reversed: strides[i] belongs to axis i, so fill the array from the back" : ""
        #expect(s == [12, 4, 1], "contiguousStrides([2, 3, 4]) should be [12, 4, 1], got \(s)\(hint)")

        // Drawn from the grading seed: another rank-3 shape.
        var g = SeededGenerator(seed: graded(321))
        let shape = randomShape(3, 2...1000, &g)
        let t = contiguousStrides(shape)
        observe("contiguousStrides(\(shape))", t)
        #expect(t == referenceStrides(shape), "contiguousStrides(\(shape)) should be \(referenceStrides(shape)), got \(t)\(t == referenceStrides(shape).reversed() ? " — reversed, or column-major: the *last* axis must step by 1" : "")")
    }

    @Test func scalarAndVector() {
        observeLists("contiguousStrides of [], [9], [1]", [contiguousStrides([]), contiguousStrides([9]), contiguousStrides([1])])
        #expect(contiguousStrides([]) == [], "a scalar has no axes: [], got \(contiguousStrides([]))")
        #expect(contiguousStrides([9]) == [1], "a vector steps by 1: [1], got \(contiguousStrides([9]))")
        #expect(contiguousStrides([1]) == [1], "got \(contiguousStrides([1]))")

        // Drawn from the grading seed: a vector, and the same vector as a row [1, n].
        var g = SeededGenerator(seed: graded(322))
        let n = Int.random(in: 2...100_000, using: &g)
        let lists = [contiguousStrides([n]), contiguousStrides([1, n])]
        observeLists("contiguousStrides of [\(n)] and [1, \(n)]", lists)
        #expect(lists == [[1], [n, 1]], "contiguousStrides of [\(n)] and [1, \(n)] should be [1] and [\(n), 1], got \(lists)")
    }

    @Test func sizeOneAxesAnywhere() {
        observeLists("contiguousStrides of [3, 1, 2], [1, 1, 1], [1, 4]", [contiguousStrides([3, 1, 2]), contiguousStrides([1, 1, 1]), contiguousStrides([1, 4])])
        #expect(contiguousStrides([3, 1, 2]) == [2, 2, 1], "contiguousStrides([3, 1, 2]) should be [2, 2, 1], got \(contiguousStrides([3, 1, 2]))")
        #expect(contiguousStrides([1, 1, 1]) == [1, 1, 1], "got \(contiguousStrides([1, 1, 1]))")
        #expect(contiguousStrides([1, 4]) == [4, 1], "got \(contiguousStrides([1, 4]))")

        // Drawn from the grading seed: shapes with size-1 axes inserted anywhere.
        var g = SeededGenerator(seed: graded(323))
        for _ in 0..<3 {
            var shape = randomShape(Int.random(in: 1...3, using: &g), 2...7, &g)
            for _ in 0..<Int.random(in: 1...2, using: &g) { shape.insert(1, at: Int.random(in: 0...shape.count, using: &g)) }
            let s = contiguousStrides(shape)
            observe("contiguousStrides(\(shape))", s)
            #expect(s == referenceStrides(shape), "contiguousStrides(\(shape)) should be \(referenceStrides(shape)), got \(s)")
        }
    }

    @Test func zeroSizesCountAsOne() {
        let s = contiguousStrides([2, 0, 3])
        observeLists("contiguousStrides of [2, 0, 3] and [0]", [s, contiguousStrides([0])])
        #expect(s == [3, 3, 1],
                "contiguousStrides([2, 0, 3]) should be [3, 3, 1], got \(s)\(s == [0, 3, 1] ? " — multiply by max(size, 1), as PyTorch does, so strides stay positive" : "")")
        #expect(contiguousStrides([0]) == [1], "got \(contiguousStrides([0]))")

        // Drawn from the grading seed: shapes with a size-0 axis after the first.
        var g = SeededGenerator(seed: graded(324))
        for _ in 0..<3 {
            var shape = randomShape(Int.random(in: 1...3, using: &g), 2...7, &g)
            shape.insert(0, at: Int.random(in: 1...shape.count, using: &g))
            let t = contiguousStrides(shape)
            observe("contiguousStrides(\(shape))", t)
            #expect(t == referenceStrides(shape),
                    "contiguousStrides(\(shape)) should be \(referenceStrides(shape)), got \(t)\(t.contains(0) ? " — multiply by max(size, 1), as PyTorch does, so strides stay positive" : "")")
        }
    }

    @Test func randomShapes() {
        var g = SeededGenerator(seed: graded(32))
        var results: [[Int]] = []
        for _ in 0..<300 {
            let shape = (0..<Int.random(in: 0...5, using: &g)).map { _ in Int.random(in: 1...6, using: &g) }
            let expected = referenceStrides(shape), got = contiguousStrides(shape)
            results.append(got)
            #expect(got == expected, "contiguousStrides(\(shape)) should be \(expected), got \(got)")
            if got != expected { return }  // one failing case is enough to read
        }
        observeLists("contiguousStrides of 300 random shapes", results)
    }
}

// MARK: - 2.3 storageOffset

@Suite struct Exercise_2_3 {
    @Test func theOffsetIsAdded() {
        let got = storageOffset(of: [2, 1], strides: [4, 1], offset: 100)
        observe("storageOffset(of: [2, 1], strides: [4, 1], offset: 100)", got)
        #expect(got == 109, "offset 100 + 2·4 + 1·1 = 109, got \(got)\(got == 9 ? " — the offset was ignored: start from it" : "")")

        // Drawn from the grading seed: another index, strides and offset.
        var g = SeededGenerator(seed: graded(331))
        let index = [Int.random(in: 1...9, using: &g), Int.random(in: 1...9, using: &g)]
        let strides = [Int.random(in: 10...20, using: &g), Int.random(in: 1...9, using: &g)]
        let offset = Int.random(in: 50...500, using: &g)
        let seeded = storageOffset(of: index, strides: strides, offset: offset)
        let expected = offset + index[0] * strides[0] + index[1] * strides[1]
        observe("storageOffset(of: \(index), strides: \(strides), offset: \(offset))", seeded)
        #expect(seeded == expected, "offset \(offset) + \(index[0])·\(strides[0]) + \(index[1])·\(strides[1]) = \(expected), got \(seeded)\(seeded == expected - offset ? " — the offset was ignored: start from it" : "")")
    }

    @Test func aScalarIndexIsTheOffset() {
        observe("storageOffset(of: [], strides: [], offset: 7) and with the default offset",
                [storageOffset(of: [], strides: [], offset: 7), storageOffset(of: [], strides: [])])
        #expect(storageOffset(of: [], strides: [], offset: 7) == 7, "index [] of a scalar view at offset 7 is slot 7, got \(storageOffset(of: [], strides: [], offset: 7))")
        #expect(storageOffset(of: [], strides: []) == 0, "the default offset is 0")

        // Drawn from the grading seed: other offsets.
        var g = SeededGenerator(seed: graded(332))
        let offsets = (0..<3).map { _ in Int.random(in: 1...1000, using: &g) }
        let got = offsets.map { storageOffset(of: [], strides: [], offset: $0) }
        observe("storageOffset(of: [], strides: [], offset: o) for o = \(offsets)", got)
        #expect(got == offsets, "index [] of a scalar view at offsets \(offsets) is slot \(offsets), got \(got)")
    }

    @Test func zeroStridesReadTheSameSlot() {
        // A broadcast view (lesson 3): stride 0 repeats one element.
        var offsets: [Int] = []
        for i in 0..<4 {
            let got = storageOffset(of: [i, 2], strides: [0, 1], offset: 3)
            offsets.append(got)
            #expect(got == 5, "with stride 0 on axis 0, every row reads the same slots: expected 5, got \(got)")
        }
        observe("storageOffset(of: [i, 2], strides: [0, 1], offset: 3) for i = 0, 1, 2, 3", offsets)

        // Drawn from the grading seed: another column, stride and offset.
        var g = SeededGenerator(seed: graded(333))
        let rows = Int.random(in: 2...6, using: &g), column = Int.random(in: 0...9, using: &g)
        let stride = Int.random(in: 1...9, using: &g), offset = Int.random(in: 0...50, using: &g)
        let seeded = (0..<rows).map { storageOffset(of: [$0, column], strides: [0, stride], offset: offset) }
        observe("storageOffset(of: [i, \(column)], strides: [0, \(stride)], offset: \(offset)) for i = 0..<\(rows)", seeded)
        #expect(seeded.allSatisfy { $0 == offset + column * stride },
                "with stride 0 on axis 0, every row reads the same slots: expected \(offset + column * stride) each time, got \(seeded)")
    }

    @Test func eachIndexPairsWithItsOwnStride() {
        let got = storageOffset(of: [1, 0, 0], strides: [100, 10, 1])
        observe("storageOffset(of: [1, 0, 0], strides: [100, 10, 1])", got)
        #expect(got == 100, "index [1, 0, 0] with strides [100, 10, 1] is 100, got \(got)\(got == 1 ? " — index i must be multiplied by strides[i], not a reversed stride" : "")")

        // Drawn from the grading seed: other strides, and an index along one axis at a time.
        var g = SeededGenerator(seed: graded(334))
        let strides = [Int.random(in: 200...400, using: &g), Int.random(in: 20...99, using: &g), Int.random(in: 2...9, using: &g)]
        var seeded: [Int] = [], expected: [Int] = []
        for axis in 0..<3 {
            var index = [0, 0, 0]
            index[axis] = Int.random(in: 1...5, using: &g)
            seeded.append(storageOffset(of: index, strides: strides))
            expected.append(index[axis] * strides[axis])
        }
        observe("storageOffset along each axis of strides \(strides)", seeded)
        #expect(seeded == expected, "with strides \(strides), indices along axes 0, 1, 2 should give \(expected), got \(seeded) — index i must be multiplied by strides[i]")
    }

    @Test func randomLayouts() {
        var g = SeededGenerator(seed: graded(33))
        var offsets: [Int] = []
        for _ in 0..<500 {
            let rank = Int.random(in: 0...4, using: &g)
            let shape = (0..<rank).map { _ in Int.random(in: 1...5, using: &g) }
            let strides = (0..<rank).map { _ in Int.random(in: 0...40, using: &g) }
            let index = shape.map { Int.random(in: 0..<$0, using: &g) }
            let offset = Int.random(in: 0...50, using: &g)
            let expected = offset + zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }
            let got = storageOffset(of: index, strides: strides, offset: offset)
            offsets.append(got)
            #expect(got == expected, "storageOffset(of: \(index), strides: \(strides), offset: \(offset)) should be \(expected), got \(got)")
            if got != expected { return }  // one failing case is enough to read
        }
        observe("storageOffset of 500 random indices and layouts", offsets)
    }
}

// MARK: - 2.4 isContiguous

@Suite struct Exercise_2_4 {
    /// Checks `isContiguous` on `layouts` against the brute force, observing the answers.
    private func checkAgainstBruteForce(_ what: String, _ layouts: [([Int], [Int])], sourceLocation: SourceLocation = #_sourceLocation) {
        let answers = layouts.map { isContiguous(shape: $0.0, strides: $0.1) }
        observeAnswers("isContiguous for \(what) \(layouts.map { "(\($0.0), \($0.1))" }.joined(separator: ", "))", answers)
        for ((shape, strides), got) in zip(layouts, answers) {
            let expected = referenceContiguous(shape: shape, strides: strides)
            #expect(got == expected, "isContiguous(shape: \(shape), strides: \(strides)) should be \(expected)\(expected && shape.contains(1) ? " — size-1 axes may have any stride" : "")",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func sizeOneAxesMayHaveAnyStride() {
        let cases: [([Int], [Int])] = [([1, 3], [99, 1]), ([3, 1], [1, 42]), ([1, 1, 1], [5, 6, 7]),
                                        ([2, 1, 3], [3, 0, 1]), ([1], [0]), ([4, 1], [1, -3])]
        observeAnswers("isContiguous for the layouts \(cases)", cases.map { isContiguous(shape: $0.0, strides: $0.1) })
        for (shape, strides) in cases {
            #expect(isContiguous(shape: shape, strides: strides),
                    "shape \(shape), strides \(strides) is contiguous: an axis of size 1 is never stepped along, so its stride is irrelevant — skip such axes")
        }

        // Drawn from the grading seed: layouts with size-1 axes of any stride, half of them with another stride disturbed.
        var g = SeededGenerator(seed: graded(341))
        let layouts: [([Int], [Int])] = (0..<12).map { _ in
            var shape = randomShape(Int.random(in: 1...3, using: &g), 2...3, &g)
            shape.insert(1, at: Int.random(in: 0...shape.count, using: &g))
            var strides = referenceStrides(shape)
            for axis in shape.indices where shape[axis] == 1 { strides[axis] = Int.random(in: -5...99, using: &g) }
            if Bool.random(using: &g), let axis = shape.indices.filter({ shape[$0] != 1 }).randomElement(using: &g) {
                strides[axis] = Int.random(in: 0...9, using: &g)
            }
            return (shape, strides)
        }
        checkAgainstBruteForce("layouts with a size-1 axis", layouts)
    }

    @Test func scalarsAreContiguous() {
        observe("isContiguous(shape: [], strides: [])", isContiguous(shape: [], strides: []))
        #expect(isContiguous(shape: [], strides: []), "a scalar (shape [], strides []) is contiguous")

        // Drawn from the grading seed: one-element layouts of any rank and strides, and vectors of stride 0, 1 or 2.
        var g = SeededGenerator(seed: graded(342))
        let layouts: [([Int], [Int])] = (0..<10).map { _ in
            let rank = Int.random(in: 0...3, using: &g)
            var shape = [Int](repeating: 1, count: rank), strides = (0..<rank).map { _ in Int.random(in: 0...50, using: &g) }
            if Bool.random(using: &g) {
                let axis = Int.random(in: 0...rank, using: &g)
                shape.insert(Int.random(in: 2...5, using: &g), at: axis)
                strides.insert(Int.random(in: 0...2, using: &g), at: axis)
            }
            return (shape, strides)
        }
        checkAgainstBruteForce("one-element layouts and vectors", layouts)
    }

    @Test func outOfOrderIsNot() {
        observeAnswers("isContiguous for ([3, 2], [1, 3]), ([2, 3], [1, 2]), ([2, 2, 2], [4, 1, 2])",
                       [isContiguous(shape: [3, 2], strides: [1, 3]), isContiguous(shape: [2, 3], strides: [1, 2]), isContiguous(shape: [2, 2, 2], strides: [4, 1, 2])])
        #expect(!isContiguous(shape: [3, 2], strides: [1, 3]), "a transposed 2×3 matrix (shape [3, 2], strides [1, 3]) is not contiguous")
        #expect(!isContiguous(shape: [2, 3], strides: [1, 2]), "column-major strides [1, 2] for shape [2, 3] are not row-major")
        #expect(!isContiguous(shape: [2, 2, 2], strides: [4, 1, 2]), "shape [2, 2, 2] with strides [4, 1, 2] swaps the last two axes")

        // Drawn from the grading seed: contiguous tensors with their axes permuted (or not).
        var g = SeededGenerator(seed: graded(343))
        let layouts: [([Int], [Int])] = (0..<10).map { _ in
            let shape = randomShape(Int.random(in: 2...3, using: &g), 2...4, &g)
            let order = Array(shape.indices).shuffled(using: &g)
            let strides = referenceStrides(shape)
            return (order.map { shape[$0] }, order.map { strides[$0] })
        }
        checkAgainstBruteForce("permuted contiguous layouts", layouts)
    }

    @Test func gapsAreNot() {
        observeAnswers("isContiguous for ([2, 3], [4, 1]), ([3], [2]), ([3], [0]), ([2, 3], [0, 1])",
                       [isContiguous(shape: [2, 3], strides: [4, 1]), isContiguous(shape: [3], strides: [2]),
                        isContiguous(shape: [3], strides: [0]), isContiguous(shape: [2, 3], strides: [0, 1])])
        #expect(!isContiguous(shape: [2, 3], strides: [4, 1]), "rows of 3 stored 4 apart leave gaps: not contiguous")
        #expect(!isContiguous(shape: [3], strides: [2]), "every other element (stride 2) is not contiguous")
        #expect(!isContiguous(shape: [3], strides: [0]), "a stride-0 (broadcast) axis of size 3 reads one slot 3 times: not contiguous")
        #expect(!isContiguous(shape: [2, 3], strides: [0, 1]), "a broadcast row (strides [0, 1]) is not contiguous")

        // Drawn from the grading seed: row-major strides with one of them scaled by 0 (broadcast), 1, 2 or 3 (gaps).
        var g = SeededGenerator(seed: graded(344))
        let layouts: [([Int], [Int])] = (0..<10).map { _ in
            let shape = randomShape(Int.random(in: 1...3, using: &g), 2...4, &g)
            var strides = referenceStrides(shape)
            strides[Int.random(in: 0..<shape.count, using: &g)] *= Int.random(in: 0...3, using: &g)
            return (shape, strides)
        }
        checkAgainstBruteForce("layouts with gaps or stride 0", layouts)
    }

    @Test func freshlyMadeTensorsAre() {
        var g = SeededGenerator(seed: graded(34))
        var strides: [[Int]] = [], answers: [Bool] = []
        for _ in 0..<200 {
            let shape = (0..<Int.random(in: 0...5, using: &g)).map { _ in Int.random(in: 1...4, using: &g) }
            strides.append(contiguousStrides(shape))
            let ok = isContiguous(shape: shape, strides: contiguousStrides(shape))
            answers.append(ok)
            #expect(ok, "shape \(shape) with its own row-major strides \(contiguousStrides(shape)) is contiguous")
            if !ok { return }  // one failing case is enough to read
        }
        observeLists("contiguousStrides of 200 random shapes", strides)
        observeAnswers("isContiguous of those 200 shapes with their own strides", answers)
    }

    @Test func agreesWithBruteForce() {
        var g = SeededGenerator(seed: graded(35))
        var answers: [Bool] = []
        for _ in 0..<1000 {
            let rank = Int.random(in: 0...4, using: &g)
            let shape = (0..<rank).map { _ in Int.random(in: 1...3, using: &g) }
            // Mostly the real strides, sometimes one of them disturbed.
            var strides = referenceStrides(shape)
            if rank > 0 && Bool.random(using: &g) {
                strides[Int.random(in: 0..<rank, using: &g)] = Int.random(in: 0...9, using: &g)
            }
            let expected = referenceContiguous(shape: shape, strides: strides)
            let got = isContiguous(shape: shape, strides: strides)
            answers.append(got)
            #expect(got == expected,
                    "isContiguous(shape: \(shape), strides: \(strides)) should be \(expected)\(expected && shape.contains(1) ? " — size-1 axes may have any stride" : "")")
            if got != expected { return }  // one failing case is enough to read
        }
        observeAnswers("isContiguous of 1,000 random layouts", answers)
    }
}

// MARK: - 2.5 permutedLayout

@Suite struct Exercise_2_5 {
    @Test func everyPermutationOfRank4() {
        let shape = [2, 3, 4, 5], strides = [60, 20, 5, 1]
        var shapes: [[Int]] = [], permutedStrides: [[Int]] = []
        for order in permutations(4) {
            let layout = permutedLayout(shape: shape, strides: strides, order: order)
            shapes.append(layout.shape)
            permutedStrides.append(layout.strides)
            let expected = (order.map { shape[$0] }, order.map { strides[$0] })
            var inverse = [0, 0, 0, 0]
            for (i, a) in order.enumerated() { inverse[a] = i }
            let hint = layout.shape == inverse.map { shape[$0] } && order != inverse
                ? " — that is the inverse permutation: result axis i is source axis order[i], so shape[i] = source.shape[order[i]]" : ""
            let ok = layout.shape == expected.0 && layout.strides == expected.1
            #expect(ok, "order \(order) on shape \(shape), strides \(strides): expected (\(expected.0), \(expected.1)), got (\(layout.shape), \(layout.strides))\(hint)")
            if !ok { return }  // one failing case is enough to read
        }
        observeLists("the shapes of permutedLayout(shape: [2, 3, 4, 5], strides: [60, 20, 5, 1]) for all 24 orders", shapes)
        observeLists("the strides of permutedLayout(shape: [2, 3, 4, 5], strides: [60, 20, 5, 1]) for all 24 orders", permutedStrides)

        // Drawn from the grading seed: another rank-4 layout and three orders.
        var g = SeededGenerator(seed: graded(351))
        let seededShape = randomShape(4, 1...6, &g), seededStrides = randomShape(4, 0...60, &g)
        for _ in 0..<3 {
            let order = [0, 1, 2, 3].shuffled(using: &g)
            let layout = permutedLayout(shape: seededShape, strides: seededStrides, order: order)
            observeLists("permutedLayout(shape: \(seededShape), strides: \(seededStrides), order: \(order)) (shape, strides)", [layout.shape, layout.strides])
            let expected = (order.map { seededShape[$0] }, order.map { seededStrides[$0] })
            #expect(layout.shape == expected.0 && layout.strides == expected.1,
                    "order \(order) on shape \(seededShape), strides \(seededStrides): expected (\(expected.0), \(expected.1)), got (\(layout.shape), \(layout.strides)) — result axis i is source axis order[i]")
        }
    }

    @Test func scalarAndIdentity() {
        let s = permutedLayout(shape: [], strides: [], order: [])
        let i = permutedLayout(shape: [3, 1, 2], strides: [2, 9, 1], order: [0, 1, 2])
        observeLists("permutedLayout of a scalar, and of ([3, 1, 2], [2, 9, 1]) in the identity order (shape, strides each)", [s.shape, s.strides, i.shape, i.strides])
        #expect(s.shape == [] && s.strides == [], "a scalar permutes to itself, got \(s)")
        #expect(i.shape == [3, 1, 2] && i.strides == [2, 9, 1], "the identity order changes nothing, got \(i)")

        // Drawn from the grading seed: another layout in the identity order.
        var g = SeededGenerator(seed: graded(352))
        let rank = Int.random(in: 1...5, using: &g)
        let shape = randomShape(rank, 1...6, &g), strides = randomShape(rank, 0...60, &g)
        let l = permutedLayout(shape: shape, strides: strides, order: Array(0..<rank))
        observeLists("permutedLayout(shape: \(shape), strides: \(strides), order: \(Array(0..<rank))) (shape, strides)", [l.shape, l.strides])
        #expect(l.shape == shape && l.strides == strides, "the identity order changes nothing: expected (\(shape), \(strides)), got \(l)")
    }

    @Test func stridesTravelWithTheirAxis() {
        // Non-contiguous source strides, including a broadcast 0.
        let l = permutedLayout(shape: [2, 3, 4], strides: [7, 0, 100], order: [1, 2, 0])
        observeLists("permutedLayout(shape: [2, 3, 4], strides: [7, 0, 100], order: [1, 2, 0]) (shape, strides)", [l.shape, l.strides])
        #expect(l.shape == [3, 4, 2] && l.strides == [0, 100, 7],
                "each axis keeps its own stride: expected ([3, 4, 2], [0, 100, 7]), got \(l)\(l.shape == [3, 4, 2] && l.strides != [0, 100, 7] ? " — the strides must be reordered exactly like the shape" : "")")

        // Drawn from the grading seed: another non-contiguous layout with a stride 0, in a rotated order.
        var g = SeededGenerator(seed: graded(353))
        let shape = randomShape(3, 2...6, &g)
        var strides = randomShape(3, 1...99, &g)
        strides[Int.random(in: 0..<3, using: &g)] = 0
        let order = Bool.random(using: &g) ? [1, 2, 0] : [2, 0, 1]
        let m = permutedLayout(shape: shape, strides: strides, order: order)
        observeLists("permutedLayout(shape: \(shape), strides: \(strides), order: \(order)) (shape, strides)", [m.shape, m.strides])
        #expect(m.shape == order.map { shape[$0] } && m.strides == order.map { strides[$0] },
                "each axis keeps its own stride: expected (\(order.map { shape[$0] }), \(order.map { strides[$0] })), got \(m) — the strides must be reordered exactly like the shape")
    }

    @Test func rank4TensorsReadTheRightElements() {
        let t = numberedTensor([2, 3, 1, 4])
        var shapes: [[Int]] = [], elements: [Float] = [], views: [Bool] = []
        for order in permutations(4) {
            let v = t.permuted(order)
            shapes.append(v.shape)
            elements += v.toArray()
            views.append(v.offset == 0 && v.storage === t.storage)
            let expected = indicesOf(v.shape).map { index -> Float in
                var source = [0, 0, 0, 0]
                for (k, a) in order.enumerated() { source[a] = index[k] }
                return Float(((source[0] * 3 + source[1]) * 1 + source[2]) * 4 + source[3])
            }
            let ok = v.shape == order.map { [2, 3, 1, 4][$0] } && v.toArray() == expected
            #expect(ok, "numbered tensor [2, 3, 1, 4] permuted by \(order): expected elements \(expected.prefix(8))…, got shape \(v.shape), elements \(v.toArray().prefix(8))…")
            #expect(v.offset == 0 && v.storage === t.storage, "permuting is a view: same storage, same offset")
            if !ok { return }  // one failing case is enough to read
        }
        observeLists("the shapes of a numbered [2, 3, 1, 4] tensor permuted in all 24 orders", shapes)
        observe("the elements of those 24 permuted views, one view after another", elements)
        observeAnswers("each of those permuted views shares the storage at offset 0", views)

        // Drawn from the grading seed: another numbered rank-4 tensor in three orders.
        var g = SeededGenerator(seed: graded(354))
        let shape = randomShape(4, 1...3, &g)
        let u = numberedTensor(shape)
        for _ in 0..<3 {
            let order = [0, 1, 2, 3].shuffled(using: &g)
            let v = u.permuted(order)
            let sourceStrides = referenceStrides(shape)
            let expected = indicesOf(order.map { shape[$0] }).map { index -> Float in
                Float(zip(index, order).reduce(0) { $0 + $1.0 * sourceStrides[$1.1] })
            }
            observe("the elements of a numbered \(shape) tensor permuted by \(order)", v.toArray(), shape: v.shape)
            observe("the shape of that permuted view", v.shape)
            #expect(v.shape == order.map { shape[$0] } && v.toArray() == expected && v.offset == 0 && v.storage === u.storage,
                    "numbered tensor \(shape) permuted by \(order): expected a view of shape \(order.map { shape[$0] }), elements \(expected.prefix(8))…, got shape \(v.shape), elements \(v.toArray().prefix(8))…")
        }
    }

    @Test func permuteThenInverseRoundTrips() {
        // A non-contiguous view to start from, made by hand (slicing is exercise 2.6).
        let base = numberedTensor([3, 4, 5])
        let t = Tensor(storage: base.storage, shape: [3, 2, 5], strides: [20, 10, 1], offset: 5)
        var layouts: [[Int]] = []
        for order in permutations(3) {
            var inverse = [0, 0, 0]
            for (i, a) in order.enumerated() { inverse[a] = i }
            let back = t.permuted(order).permuted(inverse)
            layouts += [back.shape, back.strides, [back.offset]]
            let ok = back.shape == t.shape && back.strides == t.strides && back.offset == t.offset
            #expect(ok, "permuted(\(order)) then permuted(\(inverse)) should restore (\(t.shape), \(t.strides), offset \(t.offset)), got (\(back.shape), \(back.strides), offset \(back.offset))")
            if !ok { return }  // one failing case is enough to read
        }
        observeLists("(shape, strides, [offset]) of a [3, 2, 5] view (strides [20, 10, 1], offset 5) permuted and back, for all 6 orders", layouts)

        // Drawn from the grading seed: another view of the same storage, by hand.
        var g = SeededGenerator(seed: graded(355))
        let shape = [Int.random(in: 1...3, using: &g), Int.random(in: 1...2, using: &g), Int.random(in: 1...5, using: &g)]
        let strides = [Int.random(in: 15...20, using: &g), Int.random(in: 5...10, using: &g), Int.random(in: 0...1, using: &g)]
        let reach = zip(shape, strides).reduce(0) { $0 + ($1.0 - 1) * $1.1 }   // the last slot read, from the offset
        let offset = Int.random(in: 0...(59 - reach), using: &g)
        let u = Tensor(storage: base.storage, shape: shape, strides: strides, offset: offset)
        var seeded: [[Int]] = []
        for _ in 0..<3 {
            let order = [0, 1, 2].shuffled(using: &g)
            var inverse = [0, 0, 0]
            for (i, a) in order.enumerated() { inverse[a] = i }
            let once = u.permuted(order), back = once.permuted(inverse)
            seeded += [once.shape, once.strides, [once.offset], back.shape, back.strides, [back.offset]]
            #expect(back.shape == shape && back.strides == strides && back.offset == offset,
                    "permuted(\(order)) then permuted(\(inverse)) should restore (\(shape), \(strides), offset \(offset)), got (\(back.shape), \(back.strides), offset \(back.offset))")
        }
        observeLists("(shape, strides, [offset]) of a \(shape) view (strides \(strides), offset \(offset)) permuted, then back, in three orders", seeded)
    }
}

// MARK: - 2.6 slicedLayout

@Suite struct Exercise_2_6 {
    @Test func aStepLargerThanTheAxis() {
        let l = slicedLayout(shape: [5], strides: [1], offset: 0, axis: 0, start: 0, end: 5, step: 7)
        observeLayout("slicedLayout(shape: [5], strides: [1], offset: 0, axis: 0, start: 0, end: 5, step: 7)", l)
        #expect(l.shape == [1] && l.strides == [7] && l.offset == 0,
                "start 0, end 5, step 7 keeps only element 0: expected ([1], [7], 0), got \(l)\(l.shape == [0] ? " — the count rounds *up*: ⌈(end − start) / step⌉" : "")")
        let m = slicedLayout(shape: [4], strides: [1], offset: 0, axis: 0, start: 3, end: 4, step: 10)
        observeLayout("slicedLayout(shape: [4], strides: [1], offset: 0, axis: 0, start: 3, end: 4, step: 10)", m)
        #expect(m.shape == [1] && m.offset == 3, "the last element alone (start 3, end 4, step 10): expected shape [1], offset 3, got \(m)")

        // Drawn from the grading seed: another axis, stride and start, with a step longer than what is left.
        var g = SeededGenerator(seed: graded(361))
        let n = Int.random(in: 2...20, using: &g), stride = Int.random(in: 1...99, using: &g)
        let start = Int.random(in: 0..<n, using: &g), step = Int.random(in: (n - start + 1)...(3 * n), using: &g)
        let s = slicedLayout(shape: [n], strides: [stride], offset: 0, axis: 0, start: start, end: n, step: step)
        observeLayout("slicedLayout(shape: [\(n)], strides: [\(stride)], offset: 0, axis: 0, start: \(start), end: \(n), step: \(step))", s)
        #expect(s.shape == [1] && s.strides == [stride * step] && s.offset == start * stride,
                "start \(start), end \(n), step \(step) keeps only element \(start): expected ([1], [\(stride * step)], \(start * stride)), got \(s)\(s.shape == [0] ? " — the count rounds *up*: ⌈(end − start) / step⌉" : "")")
    }

    @Test func countsRoundUp() {
        let l = slicedLayout(shape: [7], strides: [1], offset: 0, axis: 0, start: 0, end: 7, step: 2)
        let e = slicedLayout(shape: [6], strides: [1], offset: 0, axis: 0, start: 1, end: 6, step: 5)
        observeLists("the shapes of slicedLayout of [7] (0..<7 step 2) and of [6] (1..<6 step 5)", [l.shape, e.shape])
        #expect(l.shape == [4], "elements 0, 2, 4, 6: 4 of them, got \(l.shape)\(l.shape == [3] ? " — (7 − 0) / 2 rounds down to 3; you need ⌈7 / 2⌉ = (end − start + step − 1) / step" : "")")
        #expect(e.shape == [1], "start 1, end 6, step 5 keeps only element 1 (6 is excluded), got \(e.shape)")

        // Drawn from the grading seed: slices whose length is not a multiple of the step.
        var g = SeededGenerator(seed: graded(362))
        for _ in 0..<3 {
            let n = Int.random(in: 10...40, using: &g), step = Int.random(in: 2...6, using: &g)
            let start = Int.random(in: 0...4, using: &g)
            var end = Int.random(in: (start + 1)...n, using: &g)
            if (end - start) % step == 0 { end -= 1 }
            if end <= start { end = start + 1 }
            let s = slicedLayout(shape: [n], strides: [1], offset: 0, axis: 0, start: start, end: end, step: step)
            let expected = (end - start + step - 1) / step
            observe("the shape of slicedLayout(shape: [\(n)], strides: [1], offset: 0, axis: 0, start: \(start), end: \(end), step: \(step))", s.shape)
            #expect(s.shape == [expected], "elements \(start)..<\(end) in steps of \(step): \(expected) of them, got \(s.shape)\(s.shape == [(end - start) / step] ? " — rounded down; you need ⌈(end − start) / step⌉ = (end − start + step − 1) / step" : "")")
        }
    }

    @Test func emptySlicesAtTheEdges() {
        let atEnd = slicedLayout(shape: [5, 2], strides: [2, 1], offset: 0, axis: 0, start: 5, end: 5, step: 1)
        observeLayout("slicedLayout(shape: [5, 2], strides: [2, 1], offset: 0, axis: 0, start: 5, end: 5, step: 1)", atEnd)
        #expect(atEnd.shape == [0, 2] && atEnd.offset == 10,
                "start = end = 5 (the very end) is an empty slice: expected shape [0, 2], offset 10, got \(atEnd)")
        let inMiddle = slicedLayout(shape: [5], strides: [1], offset: 0, axis: 0, start: 2, end: 2, step: 3)
        observe("the shape of slicedLayout(shape: [5], strides: [1], offset: 0, axis: 0, start: 2, end: 2, step: 3)", inMiddle.shape)
        #expect(inMiddle.shape == [0], "start = end keeps nothing, even with step 3; got \(inMiddle.shape)")
        let atStart = slicedLayout(shape: [4], strides: [3], offset: 6, axis: 0, start: 0, end: 0, step: 1)
        observeLayout("slicedLayout(shape: [4], strides: [3], offset: 6, axis: 0, start: 0, end: 0, step: 1)", atStart)
        #expect(atStart.shape == [0] && atStart.offset == 6, "an empty slice at the start: expected ([0], offset 6), got \(atStart)")

        // Drawn from the grading seed: another empty slice of another layout.
        var g = SeededGenerator(seed: graded(363))
        let shape = [Int.random(in: 2...9, using: &g), Int.random(in: 2...9, using: &g)]
        let strides = [Int.random(in: 10...30, using: &g), Int.random(in: 1...3, using: &g)]
        let offset = Int.random(in: 0...20, using: &g), at = Int.random(in: 0...shape[0], using: &g), step = Int.random(in: 1...4, using: &g)
        let s = slicedLayout(shape: shape, strides: strides, offset: offset, axis: 0, start: at, end: at, step: step)
        observeLayout("slicedLayout(shape: \(shape), strides: \(strides), offset: \(offset), axis: 0, start: \(at), end: \(at), step: \(step))", s)
        #expect(s.shape == [0, shape[1]] && s.offset == offset + at * strides[0],
                "start = end = \(at) is an empty slice: expected shape [0, \(shape[1])], offset \(offset + at * strides[0]), got \(s)")
    }

    @Test func theWholeAxisChangesNothing() {
        let l = slicedLayout(shape: [3, 4], strides: [4, 1], offset: 2, axis: 1, start: 0, end: 4, step: 1)
        observeLayout("slicedLayout(shape: [3, 4], strides: [4, 1], offset: 2, axis: 1, start: 0, end: 4, step: 1)", l)
        #expect(l.shape == [3, 4] && l.strides == [4, 1] && l.offset == 2, "start 0, end 4, step 1 is the whole axis: expected ([3, 4], [4, 1], 2), got \(l)")

        // Drawn from the grading seed: the whole of an axis of another layout.
        var g = SeededGenerator(seed: graded(364))
        let shape = randomShape(3, 1...7, &g), strides = randomShape(3, 0...40, &g)
        let offset = Int.random(in: 0...30, using: &g), axis = Int.random(in: 0..<3, using: &g)
        let s = slicedLayout(shape: shape, strides: strides, offset: offset, axis: axis, start: 0, end: shape[axis], step: 1)
        observeLayout("slicedLayout(shape: \(shape), strides: \(strides), offset: \(offset), axis: \(axis), start: 0, end: \(shape[axis]), step: 1)", s)
        #expect(s.shape == shape && s.strides == strides && s.offset == offset,
                "start 0, end \(shape[axis]), step 1 is the whole axis: expected (\(shape), \(strides), \(offset)), got \(s)")
    }

    @Test func keepsTheOffsetAndTheOtherAxes() {
        // A transposed view at offset 5, sliced along its second axis.
        let l = slicedLayout(shape: [3, 4], strides: [1, 3], offset: 5, axis: 1, start: 1, end: 4, step: 2)
        observeLayout("slicedLayout(shape: [3, 4], strides: [1, 3], offset: 5, axis: 1, start: 1, end: 4, step: 2)", l)
        var hints: [String] = []
        if l.offset == 3 { hints.append("the existing offset 5 was dropped: add start·stride to it") }
        if l.offset == 6 { hints.append("offset moved by start·1: multiply start by the axis's stride") }
        if l.strides == [1, 3] { hints.append("the stride must grow by the step") }
        if l.shape.first != 3 || l.strides.first != 1 { hints.append("the other axes must stay as they were") }
        #expect(l.shape == [3, 2] && l.strides == [1, 6] && l.offset == 8,
                "expected ([3, 2], [1, 6], 8), got \(l)\(hints.isEmpty ? "" : " — " + hints.joined(separator: "; "))")

        // Drawn from the grading seed: another transposed view at another offset.
        var g = SeededGenerator(seed: graded(365))
        let rows = Int.random(in: 2...6, using: &g), cols = Int.random(in: 4...9, using: &g)
        let offset = Int.random(in: 1...300, using: &g), start = Int.random(in: 1...2, using: &g), step = Int.random(in: 2...3, using: &g)
        let s = slicedLayout(shape: [rows, cols], strides: [1, rows], offset: offset, axis: 1, start: start, end: cols, step: step)
        let expected = (shape: [rows, (cols - start + step - 1) / step], strides: [1, rows * step], offset: offset + start * rows)
        observeLayout("slicedLayout(shape: [\(rows), \(cols)], strides: [1, \(rows)], offset: \(offset), axis: 1, start: \(start), end: \(cols), step: \(step))", s)
        #expect(s.shape == expected.shape && s.strides == expected.strides && s.offset == expected.offset,
                "expected \(expected), got \(s) — keep the offset (add start·stride to it), grow the stride by the step, leave the other axes alone")
    }

    @Test func randomSlicesAgreeWithTheFormula() {
        var g = SeededGenerator(seed: graded(36))
        var layouts: [[Int]] = []
        for _ in 0..<500 {
            let rank = Int.random(in: 1...4, using: &g)
            let shape = (0..<rank).map { _ in Int.random(in: 0...6, using: &g) }
            let strides = (0..<rank).map { _ in Int.random(in: 0...30, using: &g) }
            let offset = Int.random(in: 0...20, using: &g)
            let axis = Int.random(in: 0..<rank, using: &g)
            let start = Int.random(in: 0...shape[axis], using: &g)
            let end = Int.random(in: start...shape[axis], using: &g)
            let step = Int.random(in: 1...8, using: &g)
            var expectedShape = shape, expectedStrides = strides
            expectedShape[axis] = end > start ? (end - start - 1) / step + 1 : 0
            expectedStrides[axis] = strides[axis] * step
            let l = slicedLayout(shape: shape, strides: strides, offset: offset, axis: axis, start: start, end: end, step: step)
            layouts += [l.shape, l.strides, [l.offset]]
            let ok = l.shape == expectedShape && l.strides == expectedStrides && l.offset == offset + start * strides[axis]
            #expect(ok, "slicedLayout(shape: \(shape), strides: \(strides), offset: \(offset), axis: \(axis), start: \(start), end: \(end), step: \(step)) should be (\(expectedShape), \(expectedStrides), \(offset + start * strides[axis])), got \(l)")
            if !ok { return }  // one failing case is enough to read
        }
        observeLists("(shape, strides, [offset]) of 500 random slices", layouts)
    }

    @Test func slicesOfSlicesReadTheRightElements() {
        let t = numberedTensor([6, 7])
        let v = t.sliced(axis: 1, from: 1, step: 3)      // columns 1, 4
            .sliced(axis: 0, from: 1, to: 6, step: 2)     // rows 1, 3, 5
            .permuted([1, 0])
            .sliced(axis: 1, from: 1)                     // rows 3, 5
        observe("the elements of columns 1 and 4 of rows 3 and 5 of a numbered 6×7 tensor, transposed", v.toArray(), shape: v.shape)
        observe("that view shares the tensor's storage", v.storage === t.storage)
        #expect(v.shape == [2, 2], "expected shape [2, 2], got \(v.shape)")
        #expect(v.toArray() == [22, 36, 25, 39],
                "columns 1 and 4 of rows 3 and 5 of a numbered 6×7 tensor, transposed: expected [22, 36, 25, 39], got \(v.toArray())")
        #expect(v.storage === t.storage, "slices are views: same storage")

        // Drawn from the grading seed: the same chain of views with other sizes, starts and steps.
        var g = SeededGenerator(seed: graded(366))
        let rows = Int.random(in: 6...10, using: &g), cols = Int.random(in: 6...10, using: &g)
        let c0 = Int.random(in: 0...2, using: &g), cStep = Int.random(in: 2...3, using: &g)
        let r0 = Int.random(in: 0...1, using: &g), r1 = Int.random(in: (rows - 2)...rows, using: &g), rStep = Int.random(in: 1...2, using: &g)
        let keptColumns = Array(stride(from: c0, to: cols, by: cStep))
        let slicedRows = Array(stride(from: r0, to: r1, by: rStep))
        let skip = Int.random(in: 0..<slicedRows.count, using: &g)
        let keptRows = Array(slicedRows.dropFirst(skip))
        let u = numberedTensor([rows, cols])
        let w = u.sliced(axis: 1, from: c0, step: cStep).sliced(axis: 0, from: r0, to: r1, step: rStep).permuted([1, 0]).sliced(axis: 1, from: skip)
        let expected = keptColumns.flatMap { c in keptRows.map { Float($0 * cols + c) } }
        let label = "columns \(c0)..<\(cols) step \(cStep) of rows \(r0)..<\(r1) step \(rStep) of a numbered \(rows)×\(cols) tensor, transposed, from row \(skip) on"
        observe("the elements of \(label)", w.toArray(), shape: w.shape)
        #expect(w.shape == [keptColumns.count, keptRows.count] && w.toArray() == expected && w.storage === u.storage,
                "\(label): expected a view of shape \([keptColumns.count, keptRows.count]) holding \(expected.prefix(8))…, got shape \(w.shape) holding \(w.toArray().prefix(8))…")
    }
}
