import Testing
import Kindling

// Lesson 2 — tensors: storage, shape, strides, views (Lessons/02-tensors.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson02           all of lesson 2
//     swift test --filter Exercise_2_4       one exercise
//
// The suites run in order, one exercise after another; an exercise that is not
// written yet stops the run with "Exercise 2.x is not done yet". Each
// exercise's tests use only that exercise and earlier ones. (Making any
// `Tensor` already needs 2.1 and 2.2, reading one needs 2.3 and 2.4 — so the
// tensor-level tests come with 2.5 and 2.6.)

// MARK: - Helpers: a reference the tests compute for themselves

/// Every multi-index of `shape` in row-major order (one empty index for a scalar, none for a zero size).
private func allIndices(_ shape: [Int]) -> [[Int]] {
    var result: [[Int]] = [[]]
    for n in shape {
        result = result.flatMap { prefix in (0..<n).map { prefix + [$0] } }
    }
    return result
}

/// Row-major positions written out by hand, independent of exercise 2.2.
private func rowMajorPosition(_ index: [Int], shape: [Int]) -> Int {
    var position = 0
    for (i, n) in zip(index, shape) { position = position * n + i }
    return position
}

/// A contiguous tensor whose element at each position holds that position: 0, 1, 2, …
/// Reading a view then tells exactly which storage slot it came from.
private func numbered(_ shape: [Int]) -> Tensor {
    Tensor((0..<shape.reduce(1, *)).map { Float($0) }, shape: shape)
}

/// Whether visiting `shape` in row-major order reads storage slots offset, offset + 1, … —
/// contiguity by brute force, for layouts with at least one element.
private func bruteForceContiguous(shape: [Int], strides: [Int]) -> Bool {
    var expected = 0
    for index in allIndices(shape) {
        let position = zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }
        if position != expected { return false }
        expected += 1
    }
    return true
}

@Suite("Lesson02", .serialized) struct Lesson02 {

    // MARK: 2.1 — element count

    @Suite("2.1 elementCount") struct Exercise_2_1 {
        @Test func productOfTheSizes() {
            let n = elementCount([2, 3, 4])
            #expect(n == 24, "2 · 3 · 4 = 24 elements, got \(n)\(n == 0 ? " — a product starts at 1, not 0" : n == 10 ? " — that is 1 plus the sum of the sizes, not their product" : "")")
            #expect(elementCount([7]) == 7)
        }

        @Test func scalarsAndEmptyTensors() {
            #expect(elementCount([]) == 1, "a scalar (shape []) holds one number, got \(elementCount([]))\(elementCount([]) == 0 ? " — a product starts at 1, not 0" : "")")
            #expect(elementCount([3, 0, 2]) == 0, "a size-0 axis means no elements at all, got \(elementCount([3, 0, 2]))")
        }
    }

    // MARK: 2.2 — contiguous strides

    @Suite("2.2 contiguousStrides") struct Exercise_2_2 {
        @Test func rowMajor() {
            let strides = contiguousStrides([2, 3, 4])
            #expect(strides == [12, 4, 1],
                    "row-major: the last axis steps by 1, the middle by 4, the first by 3·4 = 12; got \(strides)\(strides == [1, 2, 6] ? " — those are column-major (Fortran) strides: walk from the last axis to the first" : "")")
            #expect(contiguousStrides([5]) == [1])
            #expect(contiguousStrides([]) == [], "a scalar has no axes, so no strides")
        }

        @Test func sizeOneAxes() {
            #expect(contiguousStrides([4, 1, 3]) == [3, 3, 1], "got \(contiguousStrides([4, 1, 3]))")
        }

        @Test func sizeZeroAxesCountAsOne() {
            let strides = contiguousStrides([2, 0, 3])
            #expect(strides == [3, 3, 1],
                    "[2, 0, 3] → [3, 3, 1]: a size 0 counts as 1 in the running product, got \(strides)\(strides.contains(0) ? " — multiply by max(size, 1), so strides stay positive even when a tensor is empty" : "")")
        }
    }

    // MARK: 2.3 — storage offset

    @Suite("2.3 storageOffset") struct Exercise_2_3 {
        @Test func sumOfIndexTimesStride() {
            // A 2×3 matrix stored row-major: element [1, 2] is the sixth number.
            #expect(storageOffset(of: [1, 2], strides: [3, 1]) == 5,
                    "[1, 2] with strides [3, 1]: 1·3 + 2·1 = 5, got \(storageOffset(of: [1, 2], strides: [3, 1]))")
            // Its transpose: same storage, strides swapped.
            #expect(storageOffset(of: [2, 1], strides: [1, 3]) == 5)
        }

        @Test func startsAtTheOffset() {
            let got = storageOffset(of: [1, 2], strides: [3, 1], offset: 10)
            #expect(got == 15, "a view that starts at slot 10 adds 10, got \(got)\(got == 5 ? " — start from `offset`, not 0" : "")")
            #expect(storageOffset(of: [], strides: [], offset: 4) == 4, "a scalar view lives at its offset")
        }
    }

    // MARK: 2.4 — contiguity

    @Suite("2.4 isContiguous") struct Exercise_2_4 {
        @Test func rowMajorIsTransposedIsNot() {
            #expect(isContiguous(shape: [2, 3], strides: [3, 1]))
            #expect(!isContiguous(shape: [3, 2], strides: [1, 3]), "a transposed matrix walks storage out of order")
        }

        @Test func gapsAndSizeOneAxes() {
            #expect(!isContiguous(shape: [2, 3], strides: [4, 1]), "rows 4 apart but 3 long leave a gap")
            #expect(isContiguous(shape: [2, 1, 3], strides: [3, 17, 1]),
                    "shape [2, 1, 3], strides [3, 17, 1] is contiguous: an axis of size 1 is never stepped along, so skip it — its stride does not matter")
            #expect(isContiguous(shape: [4, 1], strides: [1, 4]),
                    "a transposed single row, shape [4, 1] with strides [1, 4], is contiguous: skip axes of size 1")
            #expect(isContiguous(shape: [], strides: []), "a scalar is contiguous")
        }

        @Test func emptyShapesAreContiguous() {
            // contiguousStrides([3, 0]) is [1, 1]: the walk multiplies expected by 0 and then rejects axis 0.
            #expect(isContiguous(shape: [3, 0], strides: [1, 1]),
                    "shape [3, 0] has no elements, so none can be out of place: it is contiguous — return true first when shape.contains(0)")
            #expect(isContiguous(shape: [0, 4], strides: [4, 1]), "shape [0, 4] has no elements: contiguous")
        }
    }

    // MARK: 2.5 — permuted views

    @Suite("2.5 permutedLayout") struct Exercise_2_5 {
        @Test func reordersShapeAndStrides() {
            let layout = permutedLayout(shape: [2, 3, 4], strides: [12, 4, 1], order: [2, 0, 1])
            #expect(layout.shape == [4, 2, 3] && layout.strides == [1, 12, 4],
                    "axis i of the result is axis order[i] of the source: expected ([4, 2, 3], [1, 12, 4]), got \(layout)\(layout.shape == [3, 4, 2] ? " — that is the inverse permutation (result[order[i]] = shape[i]); use order.map { shape[$0] }" : "")")
        }

        @Test func transposeSharesStorage() {
            let t = numbered([2, 3])  // [[0, 1, 2], [3, 4, 5]]
            let v = t.permuted([1, 0])
            #expect(v.shape == [3, 2] && v.strides == [1, 3] && v.offset == 0)
            #expect(v.storage === t.storage, "a permuted tensor is a view: same storage, nothing copied")
            #expect(v[2, 1] == t[1, 2], "v[2, 1] is t[1, 2]")
            #expect(v.toArray() == [0, 3, 1, 4, 2, 5], "the transpose read row by row, got \(v.toArray())")
        }
    }

    // MARK: 2.6 — sliced views

    @Suite("2.6 slicedLayout") struct Exercise_2_6 {
        @Test func theDocExample() {
            let layout = slicedLayout(shape: [10], strides: [1], offset: 0, axis: 0, start: 2, end: 9, step: 3)
            #expect(layout.shape == [3] && layout.strides == [3] && layout.offset == 2,
                    "elements 2, 5, 8: expected ([3], [3], 2), got \(layout)")
        }

        @Test func eachPartHasItsCause() {
            // Elements 0, 2, 4, 6 of 0..<7: four of them, the count rounds up.
            let up = slicedLayout(shape: [7], strides: [1], offset: 0, axis: 0, start: 0, end: 7, step: 2)
            #expect(up.shape == [4], "start 0, end 7, step 2 keeps 0, 2, 4, 6: size 4, got \(up.shape)\(up.shape == [3] ? " — (end - start) / step rounds down and drops the last element; use (end - start + step - 1) / step" : "")")
            // Rows 1..<3 of a 4×5 matrix that is already a view starting at slot 20.
            let rows = slicedLayout(shape: [4, 5], strides: [5, 1], offset: 20, axis: 0, start: 1, end: 3, step: 1)
            let cause = rows.offset == 5 ? " — the existing offset was forgotten: a slice of a slice starts where the first one started"
                : rows.offset == 21 ? " — start was multiplied by 1: move the offset by start * strides[axis], not by start" : ""
            #expect(rows.offset == 25, "rows 1..<3 of a view at offset 20 with row stride 5 start at 20 + 1·5 = 25, got \(rows.offset)\(cause)")
            let every = slicedLayout(shape: [4, 6], strides: [6, 1], offset: 0, axis: 1, start: 0, end: 6, step: 3)
            #expect(every.strides == [6, 3], "every third column of strides [6, 1] steps by 1·3: strides [6, 3], got \(every.strides)\(every.strides == [6, 1] ? " — the stride becomes strides[axis] * step" : "")")
        }

        @Test func everyOtherColumn() {
            let t = numbered([3, 5])
            let v = t.sliced(axis: 1, from: 1, step: 2)  // columns 1 and 3
            #expect(v.shape == [3, 2] && v.strides == [5, 2] && v.offset == 1, "got shape \(v.shape), strides \(v.strides), offset \(v.offset)")
            #expect(v.toArray() == [1, 3, 6, 8, 11, 13], "got \(v.toArray())")
            #expect(!v.isContiguous)
        }
    }

    // MARK: Milestone — property tests on random views

    // The end of lesson 2: random shapes (rank 0–4, sizes 0–4), random
    // permutations and slices, every element checked against a reference the
    // test computes index by index.
    @Suite("Milestone: random views") struct Properties {
        /// A random shape of rank 0–4 with sizes 0–4 (zero rarely, so most shapes have elements).
        private static func randomShape(_ g: inout SeededGenerator) -> [Int] {
            (0..<Int.random(in: 0...4, using: &g)).map { _ in
                Int.random(in: 0..<10, using: &g) == 0 ? 0 : Int.random(in: 1...4, using: &g)
            }
        }

        /// One view operation, applied both to a tensor and to the test's own index map.
        enum ViewOp: CustomStringConvertible {
            case permute([Int])
            case slice(axis: Int, start: Int, end: Int, step: Int)
            var description: String {
                switch self {
                case .permute(let order): return "permuted(\(order))"
                case let .slice(axis, start, end, step): return "sliced(axis: \(axis), from: \(start), to: \(end), step: \(step))"
                }
            }
        }

        private static func randomOp(shape: [Int], _ g: inout SeededGenerator) -> ViewOp {
            if shape.isEmpty || Bool.random(using: &g) {
                return .permute(Array(0..<shape.count).shuffled(using: &g))
            }
            let axis = Int.random(in: 0..<shape.count, using: &g)
            let start = Int.random(in: 0...shape[axis], using: &g)
            let end = Int.random(in: start...shape[axis], using: &g)
            return .slice(axis: axis, start: start, end: end, step: Int.random(in: 1...5, using: &g))
        }

        /// Applies `ops` to a numbered tensor of `shape`, then checks the view
        /// element by element against where the test says each element lives.
        @discardableResult
        private static func check(shape: [Int], ops: [ViewOp], context: String) -> Bool {
            let source = numbered(shape)
            var view = source
            var viewShape = shape
            // Maps an index of the current view to an index of the source.
            var toSource: ([Int]) -> [Int] = { $0 }
            for op in ops {
                let previous = toSource
                switch op {
                case .permute(let order):
                    view = view.permuted(order)
                    viewShape = order.map { viewShape[$0] }
                    toSource = { index in
                        var back = [Int](repeating: 0, count: index.count)
                        for (k, a) in order.enumerated() { back[a] = index[k] }
                        return previous(back)
                    }
                case let .slice(axis, start, end, step):
                    view = view.sliced(axis: axis, from: start, to: end, step: step)
                    viewShape[axis] = end > start ? (end - start - 1) / step + 1 : 0
                    toSource = { index in
                        var back = index
                        back[axis] = start + index[axis] * step
                        return previous(back)
                    }
                }
            }
            let label = "\(context): shape \(shape) → \(ops.map(\.description).joined(separator: " → "))"
            guard view.shape == viewShape else {
                #expect(view.shape == viewShape, "\(label): expected shape \(viewShape), got \(view.shape)")
                return false
            }
            #expect(view.storage === source.storage, "\(label): views must share the source's storage")
            let indices = allIndices(viewShape)
            var expectedValues: [Float] = []
            for index in indices {
                let expected = rowMajorPosition(toSource(index), shape: shape)
                expectedValues.append(Float(expected))
                let got = storageOffset(of: index, strides: view.strides, offset: view.offset)
                if got != expected {
                    #expect(got == expected, "\(label): element \(index) should live in storage slot \(expected), but strides \(view.strides) and offset \(view.offset) point at \(got)")
                    return false
                }
            }
            let readOK = view.toArray() == expectedValues
            #expect(readOK, "\(label): the view read in row-major order")
            let contiguityOK = indices.isEmpty || view.isContiguous == bruteForceContiguous(shape: view.shape, strides: view.strides)
            #expect(contiguityOK, "\(label): isContiguous is \(view.isContiguous) for shape \(view.shape), strides \(view.strides)")
            let copy = view.contiguous()
            let copyOK = copy.toArray() == expectedValues && (indices.isEmpty || copy.isContiguous)
            #expect(copyOK, "\(label): contiguous() must keep the elements and be contiguous")
            return readOK && contiguityOK && copyOK
        }

        @Test func permutedViews() {
            var g = SeededGenerator(seed: 21)
            for trial in 0..<200 {
                let shape = Self.randomShape(&g)
                let order = Array(0..<shape.count).shuffled(using: &g)
                // Stop at the first failing case: one clear message beats two hundred.
                guard Self.check(shape: shape, ops: [.permute(order)], context: "permutation trial \(trial) (seed 21)") else { return }
            }
        }

        @Test func slicedViews() {
            var g = SeededGenerator(seed: 22)
            var trial = 0
            while trial < 200 {
                let shape = Self.randomShape(&g)
                guard !shape.isEmpty else { continue }
                let op = Self.randomOp(shape: shape, &g)
                if case .permute = op { continue }
                guard Self.check(shape: shape, ops: [op], context: "slice trial \(trial) (seed 22)") else { return }
                trial += 1
            }
        }

        @Test func chainsOfViews() {
            var g = SeededGenerator(seed: 23)
            for trial in 0..<200 {
                let shape = Self.randomShape(&g)
                var ops: [ViewOp] = []
                var current = shape
                for _ in 0..<Int.random(in: 2...4, using: &g) {
                    let op = Self.randomOp(shape: current, &g)
                    switch op {
                    case .permute(let order): current = order.map { current[$0] }
                    case let .slice(axis, start, end, step): current[axis] = end > start ? (end - start - 1) / step + 1 : 0
                    }
                    ops.append(op)
                }
                guard Self.check(shape: shape, ops: ops, context: "chain trial \(trial) (seed 23)") else { return }
            }
        }

        @Test func roundTrips() {
            var g = SeededGenerator(seed: 24)
            for trial in 0..<200 {
                let shape = Self.randomShape(&g)
                let t = numbered(shape)
                let order = Array(0..<shape.count).shuffled(using: &g)
                var inverse = [Int](repeating: 0, count: order.count)
                for (i, a) in order.enumerated() { inverse[a] = i }
                let back = t.permuted(order).permuted(inverse)
                let backOK = back.shape == t.shape && back.strides == t.strides && back.offset == t.offset
                #expect(backOK,
                        "trial \(trial) (seed 24): shape \(shape) permuted by \(order) then by its inverse \(inverse) should give back the layout (\(t.shape), \(t.strides), \(t.offset)); got (\(back.shape), \(back.strides), \(back.offset))")
                if let axis = shape.indices.randomElement(using: &g) {
                    let whole = t.sliced(axis: axis, from: 0)
                    #expect(whole.shape == t.shape && whole.strides == t.strides && whole.offset == 0,
                            "trial \(trial) (seed 24): slicing all of axis \(axis) with step 1 should change nothing; got (\(whole.shape), \(whole.strides), \(whole.offset))")
                }
                #expect(t.isContiguous || t.count == 0, "trial \(trial): a freshly made tensor of shape \(shape) is contiguous")
                if !backOK { return }
            }
        }
    }
}
