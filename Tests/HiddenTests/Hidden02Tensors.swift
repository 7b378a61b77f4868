import Testing
import Kindling

// Hidden tests of lesson 2 (tensors: shapes, strides, offsets, views). The
// grader maps each test to its exercise by the suite name `Exercise_2_N`; each
// suite uses only its own exercise and earlier ones. They probe the edges the
// visible tests leave out: scalars, zero sizes, size-1 axes with odd strides,
// existing offsets, steps larger than the axis, every permutation of rank 4.

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

// MARK: - 2.1 elementCount

@Suite struct Exercise_2_1 {
    @Test func aScalarHoldsOneNumber() {
        let n = elementCount([])
        #expect(n == 1, "shape [] (a scalar) holds exactly 1 number, got \(n)\(n == 0 ? " — a product starts from 1, not 0" : "")")
    }

    @Test func aZeroSizeAnywhereMeansNoElements() {
        for shape in [[0], [0, 5], [5, 0], [2, 3, 0, 4], [0, 0]] {
            #expect(elementCount(shape) == 0, "shape \(shape) has a size-0 axis: 0 elements, got \(elementCount(shape))")
        }
    }

    @Test func sizeOneAxesChangeNothing() {
        #expect(elementCount([1]) == 1 && elementCount([1, 1, 1]) == 1 && elementCount([1, 6, 1]) == 6,
                "size-1 axes multiply by 1: expected 1, 1, 6; got \(elementCount([1])), \(elementCount([1, 1, 1])), \(elementCount([1, 6, 1]))")
    }

    @Test func largeAndHighRankShapes() {
        #expect(elementCount([1000, 1000, 3]) == 3_000_000, "got \(elementCount([1000, 1000, 3]))")
        let rank8 = [Int](repeating: 2, count: 8)
        #expect(elementCount(rank8) == 256, "eight axes of size 2: 2⁸ = 256, got \(elementCount(rank8))")
    }

    @Test func randomShapes() {
        var g = SeededGenerator(seed: 31)
        for _ in 0..<300 {
            let shape = (0..<Int.random(in: 0...5, using: &g)).map { _ in Int.random(in: 0...6, using: &g) }
            let expected = shape.reduce(1, *), got = elementCount(shape)
            #expect(got == expected, "elementCount(\(shape)) should be \(expected), got \(got)")
            if got != expected { return }  // one failing case is enough to read
        }
    }
}

// MARK: - 2.2 contiguousStrides

@Suite struct Exercise_2_2 {
    @Test func rowMajorNotColumnMajor() {
        let s = contiguousStrides([2, 3, 4])
        let hint = s == [1, 2, 6] ? " — those are column-major (Fortran) strides: the *last* axis must step by 1"
            : s == [1, 4, 12] ? " — reversed: strides[i] belongs to axis i, so fill the array from the back" : ""
        #expect(s == [12, 4, 1], "contiguousStrides([2, 3, 4]) should be [12, 4, 1], got \(s)\(hint)")
    }

    @Test func scalarAndVector() {
        #expect(contiguousStrides([]) == [], "a scalar has no axes: [], got \(contiguousStrides([]))")
        #expect(contiguousStrides([9]) == [1], "a vector steps by 1: [1], got \(contiguousStrides([9]))")
        #expect(contiguousStrides([1]) == [1], "got \(contiguousStrides([1]))")
    }

    @Test func sizeOneAxesAnywhere() {
        #expect(contiguousStrides([3, 1, 2]) == [2, 2, 1], "contiguousStrides([3, 1, 2]) should be [2, 2, 1], got \(contiguousStrides([3, 1, 2]))")
        #expect(contiguousStrides([1, 1, 1]) == [1, 1, 1], "got \(contiguousStrides([1, 1, 1]))")
        #expect(contiguousStrides([1, 4]) == [4, 1], "got \(contiguousStrides([1, 4]))")
    }

    @Test func zeroSizesCountAsOne() {
        let s = contiguousStrides([2, 0, 3])
        #expect(s == [3, 3, 1],
                "contiguousStrides([2, 0, 3]) should be [3, 3, 1], got \(s)\(s == [0, 3, 1] ? " — multiply by max(size, 1), as PyTorch does, so strides stay positive" : "")")
        #expect(contiguousStrides([0]) == [1], "got \(contiguousStrides([0]))")
    }

    @Test func randomShapes() {
        var g = SeededGenerator(seed: 32)
        for _ in 0..<300 {
            let shape = (0..<Int.random(in: 0...5, using: &g)).map { _ in Int.random(in: 1...6, using: &g) }
            let expected = referenceStrides(shape), got = contiguousStrides(shape)
            #expect(got == expected, "contiguousStrides(\(shape)) should be \(expected), got \(got)")
            if got != expected { return }  // one failing case is enough to read
        }
    }
}

// MARK: - 2.3 storageOffset

@Suite struct Exercise_2_3 {
    @Test func theOffsetIsAdded() {
        let got = storageOffset(of: [2, 1], strides: [4, 1], offset: 100)
        #expect(got == 109, "offset 100 + 2·4 + 1·1 = 109, got \(got)\(got == 9 ? " — the offset was ignored: start from it" : "")")
    }

    @Test func aScalarIndexIsTheOffset() {
        #expect(storageOffset(of: [], strides: [], offset: 7) == 7, "index [] of a scalar view at offset 7 is slot 7, got \(storageOffset(of: [], strides: [], offset: 7))")
        #expect(storageOffset(of: [], strides: []) == 0, "the default offset is 0")
    }

    @Test func zeroStridesReadTheSameSlot() {
        // A broadcast view (lesson 3): stride 0 repeats one element.
        for i in 0..<4 {
            let got = storageOffset(of: [i, 2], strides: [0, 1], offset: 3)
            #expect(got == 5, "with stride 0 on axis 0, every row reads the same slots: expected 5, got \(got)")
        }
    }

    @Test func eachIndexPairsWithItsOwnStride() {
        let got = storageOffset(of: [1, 0, 0], strides: [100, 10, 1])
        #expect(got == 100, "index [1, 0, 0] with strides [100, 10, 1] is 100, got \(got)\(got == 1 ? " — index i must be multiplied by strides[i], not a reversed stride" : "")")
    }

    @Test func randomLayouts() {
        var g = SeededGenerator(seed: 33)
        for _ in 0..<500 {
            let rank = Int.random(in: 0...4, using: &g)
            let shape = (0..<rank).map { _ in Int.random(in: 1...5, using: &g) }
            let strides = (0..<rank).map { _ in Int.random(in: 0...40, using: &g) }
            let index = shape.map { Int.random(in: 0..<$0, using: &g) }
            let offset = Int.random(in: 0...50, using: &g)
            let expected = offset + zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }
            let got = storageOffset(of: index, strides: strides, offset: offset)
            #expect(got == expected, "storageOffset(of: \(index), strides: \(strides), offset: \(offset)) should be \(expected), got \(got)")
            if got != expected { return }  // one failing case is enough to read
        }
    }
}

// MARK: - 2.4 isContiguous

@Suite struct Exercise_2_4 {
    @Test func sizeOneAxesMayHaveAnyStride() {
        let cases: [([Int], [Int])] = [([1, 3], [99, 1]), ([3, 1], [1, 42]), ([1, 1, 1], [5, 6, 7]),
                                        ([2, 1, 3], [3, 0, 1]), ([1], [0]), ([4, 1], [1, -3])]
        for (shape, strides) in cases {
            #expect(isContiguous(shape: shape, strides: strides),
                    "shape \(shape), strides \(strides) is contiguous: an axis of size 1 is never stepped along, so its stride is irrelevant — skip such axes")
        }
    }

    @Test func scalarsAreContiguous() {
        #expect(isContiguous(shape: [], strides: []), "a scalar (shape [], strides []) is contiguous")
    }

    @Test func outOfOrderIsNot() {
        #expect(!isContiguous(shape: [3, 2], strides: [1, 3]), "a transposed 2×3 matrix (shape [3, 2], strides [1, 3]) is not contiguous")
        #expect(!isContiguous(shape: [2, 3], strides: [1, 2]), "column-major strides [1, 2] for shape [2, 3] are not row-major")
        #expect(!isContiguous(shape: [2, 2, 2], strides: [4, 1, 2]), "shape [2, 2, 2] with strides [4, 1, 2] swaps the last two axes")
    }

    @Test func gapsAreNot() {
        #expect(!isContiguous(shape: [2, 3], strides: [4, 1]), "rows of 3 stored 4 apart leave gaps: not contiguous")
        #expect(!isContiguous(shape: [3], strides: [2]), "every other element (stride 2) is not contiguous")
        #expect(!isContiguous(shape: [3], strides: [0]), "a stride-0 (broadcast) axis of size 3 reads one slot 3 times: not contiguous")
        #expect(!isContiguous(shape: [2, 3], strides: [0, 1]), "a broadcast row (strides [0, 1]) is not contiguous")
    }

    @Test func freshlyMadeTensorsAre() {
        var g = SeededGenerator(seed: 34)
        for _ in 0..<200 {
            let shape = (0..<Int.random(in: 0...5, using: &g)).map { _ in Int.random(in: 1...4, using: &g) }
            let ok = isContiguous(shape: shape, strides: contiguousStrides(shape))
            #expect(ok, "shape \(shape) with its own row-major strides \(contiguousStrides(shape)) is contiguous")
            if !ok { return }  // one failing case is enough to read
        }
    }

    @Test func agreesWithBruteForce() {
        var g = SeededGenerator(seed: 35)
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
            #expect(got == expected,
                    "isContiguous(shape: \(shape), strides: \(strides)) should be \(expected)\(expected && shape.contains(1) ? " — size-1 axes may have any stride" : "")")
            if got != expected { return }  // one failing case is enough to read
        }
    }
}

// MARK: - 2.5 permutedLayout

@Suite struct Exercise_2_5 {
    @Test func everyPermutationOfRank4() {
        let shape = [2, 3, 4, 5], strides = [60, 20, 5, 1]
        for order in permutations(4) {
            let layout = permutedLayout(shape: shape, strides: strides, order: order)
            let expected = (order.map { shape[$0] }, order.map { strides[$0] })
            var inverse = [0, 0, 0, 0]
            for (i, a) in order.enumerated() { inverse[a] = i }
            let hint = layout.shape == inverse.map { shape[$0] } && order != inverse
                ? " — that is the inverse permutation: result axis i is source axis order[i], so shape[i] = source.shape[order[i]]" : ""
            let ok = layout.shape == expected.0 && layout.strides == expected.1
            #expect(ok, "order \(order) on shape \(shape), strides \(strides): expected (\(expected.0), \(expected.1)), got (\(layout.shape), \(layout.strides))\(hint)")
            if !ok { return }  // one failing case is enough to read
        }
    }

    @Test func scalarAndIdentity() {
        let s = permutedLayout(shape: [], strides: [], order: [])
        #expect(s.shape == [] && s.strides == [], "a scalar permutes to itself, got \(s)")
        let i = permutedLayout(shape: [3, 1, 2], strides: [2, 9, 1], order: [0, 1, 2])
        #expect(i.shape == [3, 1, 2] && i.strides == [2, 9, 1], "the identity order changes nothing, got \(i)")
    }

    @Test func stridesTravelWithTheirAxis() {
        // Non-contiguous source strides, including a broadcast 0.
        let l = permutedLayout(shape: [2, 3, 4], strides: [7, 0, 100], order: [1, 2, 0])
        #expect(l.shape == [3, 4, 2] && l.strides == [0, 100, 7],
                "each axis keeps its own stride: expected ([3, 4, 2], [0, 100, 7]), got \(l)\(l.shape == [3, 4, 2] && l.strides != [0, 100, 7] ? " — the strides must be reordered exactly like the shape" : "")")
    }

    @Test func rank4TensorsReadTheRightElements() {
        let t = numberedTensor([2, 3, 1, 4])
        for order in permutations(4) {
            let v = t.permuted(order)
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
    }

    @Test func permuteThenInverseRoundTrips() {
        // A non-contiguous view to start from, made by hand (slicing is exercise 2.6).
        let base = numberedTensor([3, 4, 5])
        let t = Tensor(storage: base.storage, shape: [3, 2, 5], strides: [20, 10, 1], offset: 5)
        for order in permutations(3) {
            var inverse = [0, 0, 0]
            for (i, a) in order.enumerated() { inverse[a] = i }
            let back = t.permuted(order).permuted(inverse)
            let ok = back.shape == t.shape && back.strides == t.strides && back.offset == t.offset
            #expect(ok, "permuted(\(order)) then permuted(\(inverse)) should restore (\(t.shape), \(t.strides), offset \(t.offset)), got (\(back.shape), \(back.strides), offset \(back.offset))")
            if !ok { return }  // one failing case is enough to read
        }
    }
}

// MARK: - 2.6 slicedLayout

@Suite struct Exercise_2_6 {
    @Test func aStepLargerThanTheAxis() {
        let l = slicedLayout(shape: [5], strides: [1], offset: 0, axis: 0, start: 0, end: 5, step: 7)
        #expect(l.shape == [1] && l.strides == [7] && l.offset == 0,
                "start 0, end 5, step 7 keeps only element 0: expected ([1], [7], 0), got \(l)\(l.shape == [0] ? " — the count rounds *up*: ⌈(end − start) / step⌉" : "")")
        let m = slicedLayout(shape: [4], strides: [1], offset: 0, axis: 0, start: 3, end: 4, step: 10)
        #expect(m.shape == [1] && m.offset == 3, "the last element alone (start 3, end 4, step 10): expected shape [1], offset 3, got \(m)")
    }

    @Test func countsRoundUp() {
        let l = slicedLayout(shape: [7], strides: [1], offset: 0, axis: 0, start: 0, end: 7, step: 2)
        #expect(l.shape == [4], "elements 0, 2, 4, 6: 4 of them, got \(l.shape)\(l.shape == [3] ? " — (7 − 0) / 2 rounds down to 3; you need ⌈7 / 2⌉ = (end − start + step − 1) / step" : "")")
        let e = slicedLayout(shape: [6], strides: [1], offset: 0, axis: 0, start: 1, end: 6, step: 5)
        #expect(e.shape == [1], "start 1, end 6, step 5 keeps only element 1 (6 is excluded), got \(e.shape)")
    }

    @Test func emptySlicesAtTheEdges() {
        let atEnd = slicedLayout(shape: [5, 2], strides: [2, 1], offset: 0, axis: 0, start: 5, end: 5, step: 1)
        #expect(atEnd.shape == [0, 2] && atEnd.offset == 10,
                "start = end = 5 (the very end) is an empty slice: expected shape [0, 2], offset 10, got \(atEnd)")
        let inMiddle = slicedLayout(shape: [5], strides: [1], offset: 0, axis: 0, start: 2, end: 2, step: 3)
        #expect(inMiddle.shape == [0], "start = end keeps nothing, even with step 3; got \(inMiddle.shape)")
        let atStart = slicedLayout(shape: [4], strides: [3], offset: 6, axis: 0, start: 0, end: 0, step: 1)
        #expect(atStart.shape == [0] && atStart.offset == 6, "an empty slice at the start: expected ([0], offset 6), got \(atStart)")
    }

    @Test func theWholeAxisChangesNothing() {
        let l = slicedLayout(shape: [3, 4], strides: [4, 1], offset: 2, axis: 1, start: 0, end: 4, step: 1)
        #expect(l.shape == [3, 4] && l.strides == [4, 1] && l.offset == 2, "start 0, end 4, step 1 is the whole axis: expected ([3, 4], [4, 1], 2), got \(l)")
    }

    @Test func keepsTheOffsetAndTheOtherAxes() {
        // A transposed view at offset 5, sliced along its second axis.
        let l = slicedLayout(shape: [3, 4], strides: [1, 3], offset: 5, axis: 1, start: 1, end: 4, step: 2)
        var hints: [String] = []
        if l.offset == 3 { hints.append("the existing offset 5 was dropped: add start·stride to it") }
        if l.offset == 6 { hints.append("offset moved by start·1: multiply start by the axis's stride") }
        if l.strides == [1, 3] { hints.append("the stride must grow by the step") }
        if l.shape.first != 3 || l.strides.first != 1 { hints.append("the other axes must stay as they were") }
        #expect(l.shape == [3, 2] && l.strides == [1, 6] && l.offset == 8,
                "expected ([3, 2], [1, 6], 8), got \(l)\(hints.isEmpty ? "" : " — " + hints.joined(separator: "; "))")
    }

    @Test func randomSlicesAgreeWithTheFormula() {
        var g = SeededGenerator(seed: 36)
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
            let ok = l.shape == expectedShape && l.strides == expectedStrides && l.offset == offset + start * strides[axis]
            #expect(ok, "slicedLayout(shape: \(shape), strides: \(strides), offset: \(offset), axis: \(axis), start: \(start), end: \(end), step: \(step)) should be (\(expectedShape), \(expectedStrides), \(offset + start * strides[axis])), got \(l)")
            if !ok { return }  // one failing case is enough to read
        }
    }

    @Test func slicesOfSlicesReadTheRightElements() {
        let t = numberedTensor([6, 7])
        let v = t.sliced(axis: 1, from: 1, step: 3)      // columns 1, 4
            .sliced(axis: 0, from: 1, to: 6, step: 2)     // rows 1, 3, 5
            .permuted([1, 0])
            .sliced(axis: 1, from: 1)                     // rows 3, 5
        #expect(v.shape == [2, 2], "expected shape [2, 2], got \(v.shape)")
        #expect(v.toArray() == [22, 36, 25, 39],
                "columns 1 and 4 of rows 3 and 5 of a numbered 6×7 tensor, transposed: expected [22, 36, 25, 39], got \(v.toArray())")
        #expect(v.storage === t.storage, "slices are views: same storage")
    }
}
