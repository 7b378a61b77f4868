import Foundation
import Kindling
import Testing

// Tests of tensors (lessons 2–5): creation, shape arithmetic, views, and the
// forward values of every op, against hand-computed results.

// MARK: - Helpers

/// Whether `actual` has `shape` (if given) and every element is within
/// `atol + rtol·|expected|` of `expected`.
private func expectClose(_ actual: Tensor, _ expected: [Float], shape: [Int]? = nil,
                         atol: Float = 1e-5, rtol: Float = 1e-5,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    if let shape {
        #expect(actual.shape == shape, "shape \(actual.shape), expected \(shape)", sourceLocation: sourceLocation)
    }
    let values = actual.toArray()
    #expect(values.count == expected.count, "\(values.count) elements, expected \(expected.count)",
            sourceLocation: sourceLocation)
    guard values.count == expected.count else { return }
    for (i, (a, e)) in zip(values, expected).enumerated() {
        let ok = a == e || Swift.abs(a - e) <= atol + rtol * Swift.abs(e)
        #expect(ok, "element \(i): \(a), expected \(e)", sourceLocation: sourceLocation)
    }
}

/// Two tensors with the same shape and (nearly) the same elements.
private func expectClose(_ actual: Tensor, _ expected: Tensor, atol: Float = 1e-5, rtol: Float = 1e-5,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(actual, expected.toArray(), shape: expected.shape, atol: atol, rtol: rtol,
                sourceLocation: sourceLocation)
}

/// Standard normal numbers from a private generator, so the test does not
/// depend on (or disturb) the global one that parallel tests share.
private func normalTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor((0..<elementCount(shape)).map { _ in g.nextNormal() }, shape: shape)
}

/// `0, 1, 2, …` in the given shape.
private func iota(_ shape: [Int]) -> Tensor {
    Tensor((0..<elementCount(shape)).map(Float.init), shape: shape)
}

// MARK: - Creation

@Suite("Tensor creation")
struct TensorCreationTests {
    @Test func fullZerosOnes() {
        let f = Tensor.full([2, 3], 7)
        expectClose(f, [Float](repeating: 7, count: 6), shape: [2, 3])
        #expect(f.strides == [3, 1])
        #expect(f.offset == 0)
        #expect(f.isContiguous && f.isLeaf && !f.requiresGrad)
        expectClose(Tensor.zeros([4]), [0, 0, 0, 0], shape: [4])
        expectClose(Tensor.ones([2, 1, 2]), [1, 1, 1, 1], shape: [2, 1, 2])
        #expect(Tensor.ones([2], requiresGrad: true).requiresGrad)
        let like = Tensor.zeros(like: Tensor.ones([3, 2]))
        expectClose(like, [0, 0, 0, 0, 0, 0], shape: [3, 2])
        let s = Tensor(scalar: 2.5)
        #expect(s.shape == [] && s.rank == 0 && s.count == 1)
        #expect(s.item() == 2.5)
        #expect(Tensor.zeros([2, 0, 3]).count == 0)
    }

    @Test func fromValues() {
        let t = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(t[0, 0] == 1 && t[0, 2] == 3 && t[1, 0] == 4 && t[1, 2] == 6)
        #expect(t.toArray() == [1, 2, 3, 4, 5, 6])
        #expect(Tensor([1, 2, 3]).shape == [3])
    }

    @Test func arange() {
        expectClose(Tensor.arange(0, 5), [0, 1, 2, 3, 4], shape: [5])
        expectClose(Tensor.arange(2, 5), [2, 3, 4], shape: [3])
        expectClose(Tensor.arange(0, 1, step: 0.25), [0, 0.25, 0.5, 0.75], shape: [4])
        expectClose(Tensor.arange(5, 0, step: -2), [5, 3, 1], shape: [3])
        expectClose(Tensor.arange(0, 1.1, step: 0.5), [0, 0.5, 1], shape: [3])
        #expect(Tensor.arange(3, 3).count == 0)
        #expect(Tensor.arange(3, 1).count == 0)
    }

    @Test func eye() {
        expectClose(Tensor.eye(3), [1, 0, 0, 0, 1, 0, 0, 0, 1], shape: [3, 3])
        expectClose(Tensor.eye(1), [1], shape: [1, 1])
    }

    @Test func randIsInTheUnitInterval() {
        let r = Tensor.rand([100, 100])
        #expect(r.shape == [100, 100])
        let v = r.toArray()
        #expect(v.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = v.reduce(0, +) / Float(v.count)
        #expect(Swift.abs(mean - 0.5) < 0.015)  // σ of the mean ≈ 0.0029
        #expect(Set(v).count > 9_900, "values repeat too often")
    }

    @Test func uniformRespectsItsBounds() {
        let v = Tensor.uniform([10_000], low: -3, high: 2).toArray()
        #expect(v.allSatisfy { $0 >= -3 && $0 < 2 })
        #expect(v.min()! < -2.9 && v.max()! > 1.9)
        let mean = v.reduce(0, +) / Float(v.count)
        #expect(Swift.abs(mean - -0.5) < 0.075)  // σ of the mean ≈ 0.0144
    }

    @Test func randnIsStandardNormal() {
        let v = Tensor.randn([10_000]).toArray().map(Double.init)
        let mean = v.reduce(0, +) / Double(v.count)
        let std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
        #expect(Swift.abs(mean) < 0.05, "mean \(mean)")  // 5σ
        #expect(Swift.abs(std - 1) < 0.04, "std \(std)")   // 5σ
        #expect(v.allSatisfy { $0.isFinite })
    }

    @Test func seededGeneratorIsDeterministic() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xs = (0..<8).map { _ in a.next() }
        #expect(xs == (0..<8).map { _ in b.next() })
        #expect(xs != (0..<8).map { _ in c.next() })
    }

    /// `manualSeed` makes the global generator repeat itself. Run in a child
    /// process: tests in this process run in parallel and share the generator.
    @Test func manualSeedIsDeterministic() async {
        await #expect(processExitsWith: .success) {
            manualSeed(1234)
            let a = Tensor.rand([50]).toArray(), b = Tensor.randn([50]).toArray()
            manualSeed(1234)
            let c = Tensor.rand([50]).toArray(), d = Tensor.randn([50]).toArray()
            manualSeed(99)
            let e = Tensor.rand([50]).toArray()
            precondition(a == c && b == d, "same seed, different numbers")
            precondition(a != e, "different seeds, same numbers")
        }
    }

    /// `withSeed` lends its body a generator of its own: the same numbers
    /// every time, however many other tasks draw from the global one meanwhile.
    @Test func withSeedIsDeterministicUnderConcurrentDraws() async {
        func draw() -> [Float] { withSeed(7) { Tensor.rand([40]).toArray() + Tensor.randn([40]).toArray() } }
        let reference = draw()
        let runs = await withTaskGroup(of: [Float].self) { group in
            for i in 0..<16 {
                group.addTask { i % 2 == 0 ? draw() : Tensor.rand([1000]).toArray() }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(runs.filter { $0 == reference }.count == 8)
        // Tasks started inside the scope draw from it too; another seed differs.
        let child = withSeed(7) { Task { Tensor.rand([40]).toArray() } }
        let inChild = await child.value
        #expect(inChild == Array(reference.prefix(40)))
        #expect(withSeed(8) { Tensor.rand([40]).toArray() } != Array(reference.prefix(40)))
    }

    @Test func copyOwnsItsStorage() {
        let t = iota([2, 3])
        let c = t.copy()
        #expect(c.storage !== t.storage)
        #expect(c.toArray() == t.toArray())
        t.fill(0)
        #expect(c.toArray() == [0, 1, 2, 3, 4, 5])
    }

    @Test func tooFewValuesTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor([1, 2, 3], shape: [2, 2])
        }
    }
}

// MARK: - Shape arithmetic

@Suite("Strides, offsets, broadcasting")
struct ShapeTests {
    @Test func contiguousStridesAreRowMajor() {
        #expect(contiguousStrides([2, 3, 4]) == [12, 4, 1])
        #expect(contiguousStrides([5]) == [1])
        #expect(contiguousStrides([]) == [])
        #expect(contiguousStrides([3, 1, 2]) == [2, 2, 1])
        #expect(elementCount([2, 3, 4]) == 24)
        #expect(elementCount([]) == 1)
        #expect(elementCount([3, 0]) == 0)
    }

    @Test func storageOffsetAddsStridedIndices() {
        #expect(storageOffset(of: [1, 2], strides: [3, 1]) == 5)
        #expect(storageOffset(of: [1, 2], strides: [3, 1], offset: 5) == 10)
        #expect(storageOffset(of: [1, 0, 3], strides: [12, 4, 1]) == 15)
        #expect(storageOffset(of: [2, 1], strides: [1, 3], offset: 1) == 6)
        #expect(storageOffset(of: [], strides: [], offset: 4) == 4)
    }

    @Test func contiguity() {
        #expect(isContiguous(shape: [2, 3], strides: [3, 1]))
        #expect(!isContiguous(shape: [3, 2], strides: [1, 3]))  // a transpose
        #expect(!isContiguous(shape: [2, 3], strides: [6, 2]))  // a step-2 slice
        #expect(isContiguous(shape: [1, 3], strides: [100, 1]))  // size-1 axes are free
        #expect(isContiguous(shape: [2, 1, 3], strides: [3, 99, 1]))
        #expect(!isContiguous(shape: [2, 3], strides: [0, 1]))  // expanded
        #expect(isContiguous(shape: [], strides: []))
    }

    @Test func broadcastShapesFollowsNumPy() {
        #expect(broadcastShapes([3, 1], [4]) == [3, 4])
        #expect(broadcastShapes([4], [3, 1]) == [3, 4])
        #expect(broadcastShapes([], [2, 3]) == [2, 3])
        #expect(broadcastShapes([2, 1, 4], [3, 1]) == [2, 3, 4])
        #expect(broadcastShapes([5, 1, 1], [1, 6, 1]) == [5, 6, 1])
        #expect(broadcastShapes([2, 3], [2, 3]) == [2, 3])
        #expect(broadcastShapes([1], [0]) == [0])
    }

    @Test func incompatibleShapesTrapNamingBoth() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = broadcastShapes([2, 3], [4], op: "test-op")
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("test-op") && message.contains("[2, 3]") && message.contains("[4]"), "\(message)")
    }

    @Test func broadcastStridesAreZeroOnStretchedAxes() {
        #expect(broadcastStrides(shape: [3, 1], strides: [1, 1], to: [2, 3, 4]) == [0, 1, 0])
        #expect(broadcastStrides(shape: [4], strides: [1], to: [3, 4]) == [0, 1])
        #expect(broadcastStrides(shape: [], strides: [], to: [2, 2]) == [0, 0])
        #expect(broadcastStrides(shape: [2, 3], strides: [1, 2], to: [2, 3]) == [1, 2])
    }

    @Test func normalizedAxisCountsFromTheEnd() {
        #expect(normalizedAxis(-1, rank: 3, op: "t") == 2)
        #expect(normalizedAxis(0, rank: 3, op: "t") == 0)
        #expect(normalizedAxis(-3, rank: 3, op: "t") == 0)
    }
}

// MARK: - Views

@Suite("Views")
struct ViewTests {
    @Test func reshapedInfersMinusOneAndShares() {
        let x = iota([12])
        let r = x.reshaped([3, -1])
        #expect(r.shape == [3, 4])
        #expect(r.strides == [4, 1])
        #expect(r.storage === x.storage)
        #expect(r[2, 1] == 9)
        #expect(x.reshaped([-1, 6]).shape == [2, 6])
        #expect(x.reshaped([2, 2, -1]).shape == [2, 2, 3])
        #expect(Tensor([5], shape: [1]).reshaped([]).shape == [])
    }

    @Test func reshapedOfANonContiguousTensorCopies() {
        let x = iota([2, 3])
        let t = x.transposed()
        let r = t.reshaped([6])
        #expect(r.storage !== x.storage)
        expectClose(r, [0, 3, 1, 4, 2, 5], shape: [6])
        let sliceReshape = iota([4, 4]).sliced(axis: 1, from: 0, to: 4, step: 2).reshaped([8])
        expectClose(sliceReshape, [0, 2, 4, 6, 8, 10, 12, 14], shape: [8])
    }

    @Test func badReshapeTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor.zeros([2, 3]).reshaped([4, -1])
        }
    }

    @Test func transposedSharesStorageAndIndexes() {
        let x = iota([2, 3])
        let t = x.transposed()
        #expect(t.shape == [3, 2])
        #expect(t.strides == [1, 3])
        #expect(t.storage === x.storage)
        #expect(!t.isContiguous)
        for i in 0..<3 { for j in 0..<2 { #expect(t[i, j] == x[j, i]) } }
        #expect(t.toArray() == [0, 3, 1, 4, 2, 5])
        // writing through the storage shows in both
        x.storage.base[1] = 100
        #expect(t[1, 0] == 100)
        // rank-3: swap two named axes
        let y = iota([2, 3, 4])
        let u = y.transposed(0, 2)
        #expect(u.shape == [4, 3, 2])
        #expect(u[3, 1, 1] == y[1, 1, 3])
    }

    @Test func permutedSharesStorageAndIndexes() {
        let x = iota([2, 3, 4])
        let p = x.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        #expect(p.strides == [1, 12, 4])
        #expect(p.storage === x.storage)
        for i in 0..<4 { for j in 0..<2 { for k in 0..<3 { #expect(p[i, j, k] == x[j, k, i]) } } }
        let back = p.permuted([1, 2, 0])
        #expect(back.shape == [2, 3, 4] && back.isContiguous)
        #expect(back.toArray() == x.toArray())
        #expect(x.permuted([-1, 0, 1]).shape == [4, 2, 3])
    }

    @Test func slicedWithStepAndNegativeStart() {
        let x = iota([10])
        let tail = x.sliced(from: -4)
        expectClose(tail, [6, 7, 8, 9], shape: [4])
        #expect(tail.offset == 6 && tail.storage === x.storage)
        let stepped = x.sliced(from: 1, to: 8, step: 3)
        expectClose(stepped, [1, 4, 7], shape: [3])
        #expect(stepped.strides == [3] && stepped.offset == 1)
        expectClose(x.sliced(from: 0, to: -1), (0..<9).map(Float.init), shape: [9])
        expectClose(x.sliced(from: 8, to: 100), [8, 9], shape: [2])
        expectClose(x.sliced(from: -3, to: nil, step: 5), [7], shape: [1])
        #expect(x.sliced(from: 5, to: 2).count == 0)

        let m = iota([3, 4])
        let cols = m.sliced(axis: 1, from: 1, to: 3)
        expectClose(cols, [1, 2, 5, 6, 9, 10], shape: [3, 2])
        #expect(cols.strides == [4, 1] && cols.offset == 1)
        expectClose(m.sliced(axis: -1, from: -1), [3, 7, 11], shape: [3, 1])
        // slice of a slice
        expectClose(m.sliced(axis: 0, from: 1).sliced(axis: 1, from: 0, to: 4, step: 2), [4, 6, 8, 10], shape: [2, 2])
    }

    @Test func selectedRemovesTheAxis() {
        let m = iota([3, 4])
        let row = m.selected(axis: 0, index: 1)
        expectClose(row, [4, 5, 6, 7], shape: [4])
        #expect(row.storage === m.storage)
        expectClose(m.selected(axis: 1, index: -1), [3, 7, 11], shape: [3])
        expectClose(iota([2, 3, 4]).selected(axis: 2, index: 2), [2, 6, 10, 14, 18, 22], shape: [2, 3])
    }

    @Test func squeezedAndUnsqueezed() {
        let x = iota([1, 3, 1, 2])
        #expect(x.squeezed().shape == [3, 2])
        #expect(x.squeezed(axis: 2).shape == [1, 3, 2])
        #expect(x.squeezed(axis: 0).shape == [3, 1, 2])
        #expect(x.squeezed().storage === x.storage)
        expectClose(x.squeezed(), [0, 1, 2, 3, 4, 5], shape: [3, 2])
        let v = iota([3])
        #expect(v.unsqueezed(axis: 0).shape == [1, 3])
        #expect(v.unsqueezed(axis: 1).shape == [3, 1])
        #expect(v.unsqueezed(axis: -1).shape == [3, 1])
        // unsqueezing a transposed view keeps its element order
        let t = iota([2, 3]).transposed()
        let u = t.unsqueezed(axis: 1)
        #expect(u.shape == [3, 1, 2])
        #expect(u.toArray() == t.toArray())
        #expect(u.squeezed(axis: 1).toArray() == t.toArray())
    }

    @Test func expandedRepeatsWithStrideZero() {
        let c = Tensor([1, 2, 3], shape: [3, 1])
        let e = c.expanded(to: [2, 3, 4])
        #expect(e.strides == [0, 1, 0])
        #expect(e.storage === c.storage)
        #expect(!e.isContiguous)
        expectClose(e, [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], shape: [2, 3, 4])
        let s = Tensor(scalar: 5).expanded(to: [2, 2])
        #expect(s.strides == [0, 0])
        expectClose(s, [5, 5, 5, 5], shape: [2, 2])
    }

    @Test func contiguousCopiesOnlyWhenNeeded() {
        let x = iota([2, 3])
        #expect(x.contiguous() === x)
        let t = x.transposed()
        let c = t.contiguous()
        #expect(c !== t)
        #expect(c.isContiguous && c.strides == [2, 1])
        #expect(c.storage !== x.storage)
        expectClose(c, [0, 3, 1, 4, 2, 5], shape: [3, 2])
        // a size-1 axis with an odd stride is still contiguous
        let row = x.sliced(axis: 0, from: 1, to: 2)
        #expect(row.isContiguous && row.contiguous() === row)
    }

    @Test func concatenatedAndStacked() {
        let a = iota([2, 2]), b = Tensor([10, 11, 12, 13, 14, 15], shape: [3, 2])
        expectClose(Tensor.concatenated([a, b]), [0, 1, 2, 3, 10, 11, 12, 13, 14, 15], shape: [5, 2])
        let c = Tensor([7, 8], shape: [2, 1])
        expectClose(Tensor.concatenated([a, c], axis: 1), [0, 1, 7, 2, 3, 8], shape: [2, 3])
        expectClose(Tensor.concatenated([a.transposed(), c], axis: -1), [0, 2, 7, 1, 3, 8], shape: [2, 3])
        let p = Tensor([1, 2, 3]), q = Tensor([4, 5, 6])
        expectClose(Tensor.stacked([p, q]), [1, 2, 3, 4, 5, 6], shape: [2, 3])
        expectClose(Tensor.stacked([p, q], axis: 1), [1, 4, 2, 5, 3, 6], shape: [3, 2])
        expectClose(Tensor.stacked([p, q], axis: -1), [1, 4, 2, 5, 3, 6], shape: [3, 2])
    }

    @Test func concatenatingMismatchedShapesTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor.concatenated([Tensor.zeros([2, 2]), Tensor.zeros([2, 3])], axis: 0)
        }
    }

    @Test func gatherRowsPicksRowsInOrder() {
        let x = iota([4, 3])
        expectClose(x.gatherRows([2, 0, 2]), [6, 7, 8, 0, 1, 2, 6, 7, 8], shape: [3, 3])
        expectClose(x.transposed().gatherRows([1]), [1, 4, 7, 10], shape: [1, 4])
        expectClose(iota([5]).gatherRows([4, 1]), [4, 1], shape: [2])
        #expect(x.gatherRows([]).shape == [0, 3])
    }

    @Test func inPlaceHelpers() {
        let x = Tensor.zeros([2, 3])
        x.addInPlace(Tensor([1, 2, 3]))
        expectClose(x, [1, 2, 3, 1, 2, 3])
        x.addInPlace(Tensor.ones([2, 3]), scale: -2)
        expectClose(x, [-1, 0, 1, -1, 0, 1])
        x.transposed().assign(iota([3, 2]))
        expectClose(x, [0, 2, 4, 1, 3, 5])
        x.sliced(axis: 1, from: 1).fill(9)
        expectClose(x, [0, 9, 9, 1, 9, 9])
    }
}

// MARK: - Description

@Suite("Description")
struct DescriptionTests {
    @Test func matrixPrintsLikePyTorch() {
        let m = Tensor([1, 2, 3, 4], shape: [2, 2])
        #expect(m.description == "tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]], shape: [2, 2])")
    }

    @Test func vectorsScalarsAndFlags() {
        #expect(Tensor([1, -2.5]).description == "tensor([ 1.0000, -2.5000], shape: [2])")
        #expect(Tensor(scalar: 3).description == "tensor(3.0000, shape: [])")
        let x = Tensor([1, 2], requiresGrad: true)
        #expect(x.description.contains("requiresGrad: true"))
        #expect((x * x).description.contains("op: mul"))
        let special = Tensor([.nan, .infinity, -.infinity]).description
        #expect(special.contains("nan") && special.contains("inf") && special.contains("-inf"))
    }

    @Test func largeTensorsAreElided() {
        let d = iota([2000]).description
        #expect(d.contains("..."))
        #expect(d.count < 300)
        #expect(d.contains("1999.0000"))
    }

    @Test func rank3AlignsRowsAndSeparatesBlocks() {
        let d = iota([2, 2, 2]).description
        let expected = """
        tensor([[[0.0000, 1.0000],
                 [2.0000, 3.0000]],

                [[4.0000, 5.0000],
                 [6.0000, 7.0000]]], shape: [2, 2, 2])
        """
        #expect(d == expected)
    }
}

// MARK: - Elementwise ops

@Suite("Elementwise ops")
struct ElementwiseOpTests {
    private let x = Tensor([-2, -0.5, 0, 0.5, 2])
    private let positive = Tensor([0.25, 1, 2, 4])

    @Test func unaryForwardValues() {
        expectClose(-x, [2, 0.5, 0, -0.5, -2], shape: [5])
        expectClose(x.abs(), [2, 0.5, 0, 0.5, 2])
        expectClose(x.relu(), [0, 0, 0, 0.5, 2])
        expectClose(x.exp(), [0.13533528, 0.60653066, 1, 1.6487213, 7.389056])
        expectClose(positive.log(), [-1.3862944, 0, 0.6931472, 1.3862944])
        expectClose(positive.sqrt(), [0.5, 1, 1.4142135, 2])
        expectClose(x.tanh(), [-0.9640276, -0.46211716, 0, 0.46211716, 0.9640276])
        expectClose(x.sigmoid(), [0.11920292, 0.37754068, 0.5, 0.62245935, 0.8807971])
        // x·Φ(x), Φ the standard normal CDF
        expectClose(x.gelu(), [-0.04550026, -0.15426877, 0, 0.34573123, 1.9544997])
        expectClose(x.pow(2), [4, 0.25, 0, 0.25, 4])
        expectClose(x.pow(3), [-8, -0.125, 0, 0.125, 8])
        expectClose(positive.pow(0.5), [0.5, 1, 1.4142135, 2])
        expectClose(positive.pow(-1), [4, 1, 0.5, 0.25])
        expectClose(x.clamp(min: -1, max: 1), [-1, -0.5, 0, 0.5, 1])
        expectClose(x.clamp(min: 0), [0, 0, 0, 0.5, 2])
        expectClose(x.clamp(max: 0), [-2, -0.5, 0, 0, 0])
    }

    @Test func unaryOpsWorkOnStridedViews() {
        let m = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).transposed()  // [[1,4],[2,5],[3,6]]
        expectClose(m.exp(), [1, 4, 2, 5, 3, 6].map { Float(Foundation.exp(Double($0))) }, shape: [3, 2], rtol: 1e-6)
        expectClose(-m, [-1, -4, -2, -5, -3, -6], shape: [3, 2])
        let e = Tensor([-1, 2], shape: [2, 1]).expanded(to: [2, 3])
        expectClose(e.relu(), [0, 0, 0, 2, 2, 2], shape: [2, 3])
    }

    @Test func sigmoidAndTanhStayFiniteAndBounded() {
        let big = Tensor([-1000, -100, -30, 30, 100, 1000])
        let s = big.sigmoid().toArray()
        #expect(s.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        #expect(s[0] == 0 && s[5] == 1)
        let t = big.tanh().toArray()
        #expect(t == [-1, -1, -1, 1, 1, 1])
    }

    @Test func binaryBroadcasting() {
        let a = Tensor([1, 2, 3], shape: [3, 1]), b = Tensor([10, 20, 30, 40])
        expectClose(a + b, [11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43], shape: [3, 4])
        expectClose(a - b, [-9, -19, -29, -39, -8, -18, -28, -38, -7, -17, -27, -37], shape: [3, 4])
        expectClose(a * b, [10, 20, 30, 40, 20, 40, 60, 80, 30, 60, 90, 120], shape: [3, 4])
        expectClose(b / a, [10, 20, 30, 40, 5, 10, 15, 20, 10.0 / 3, 20.0 / 3, 10, 40.0 / 3], shape: [3, 4])
        // a scalar tensor with a matrix, either side
        let s = Tensor(scalar: 2), m = iota([2, 3])
        expectClose(s * m, [0, 2, 4, 6, 8, 10], shape: [2, 3])
        expectClose(m - s, [-2, -1, 0, 1, 2, 3], shape: [2, 3])
        expectClose(s / (m + 1), [2, 1, 2.0 / 3, 0.5, 0.4, 2.0 / 6], shape: [2, 3])
        // rank 3 with rank 2
        let r3 = iota([2, 3, 4]), c = Tensor([100, 200, 300], shape: [3, 1])
        let sum = r3 + c
        #expect(sum.shape == [2, 3, 4])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            #expect(sum[i, j, k] == r3[i, j, k] + c[j, 0])
        } } }
        // a contiguous matrix with a row (a bias): the row-broadcast fast path
        expectClose(iota([2, 3]) + Tensor([10, 20, 30]), [10, 21, 32, 13, 24, 35], shape: [2, 3])
        expectClose(iota([2, 3]) - Tensor([1, 1, 1], shape: [1, 3]), [-1, 0, 1, 2, 3, 4], shape: [2, 3])
        let block = iota([2, 3, 4]) * iota([3, 4])
        let blockExpected: [Float] = (0..<24).map { (i: Int) -> Float in Float(i * (i % 12)) }
        expectClose(block, blockExpected, shape: [2, 3, 4])
        // non-contiguous operands
        let t = iota([3, 2]).transposed()  // [[0,2,4],[1,3,5]]
        expectClose(t + iota([2, 3]), [0, 3, 6, 4, 7, 10], shape: [2, 3])
        expectClose(t * Tensor([1, 10, 100]), [0, 20, 400, 1, 30, 500], shape: [2, 3])
    }

    @Test func arithmeticWithNumbersOnEitherSide() {
        let t = Tensor([1, 2, 4])
        expectClose(t + 2, [3, 4, 6])
        expectClose(2 + t, [3, 4, 6])
        expectClose(t - 2, [-1, 0, 2])
        expectClose(2 - t, [1, 0, -2])
        expectClose(t * 3, [3, 6, 12])
        expectClose(3 * t, [3, 6, 12])
        expectClose(t / 2, [0.5, 1, 2])
        expectClose(2 / t, [2, 1, 0.5])
        // on a strided view
        let v = iota([6]).sliced(from: 1, to: 6, step: 2)  // [1, 3, 5]
        expectClose(v * 2, [2, 6, 10])
        expectClose(1 - v, [0, -2, -4])
    }

    @Test func compoundAssignmentRebinds() {
        var a = Tensor([1, 2])
        let original = a
        a += Tensor([10, 10])
        a *= Tensor([2, 3])
        a -= Tensor([1, 1])
        a /= Tensor([2, 5])
        expectClose(a, [10.5, 7])
        expectClose(original, [1, 2])  // not modified in place
    }

    @Test func comparisonsGiveMasks() {
        let a = Tensor([1, 2, 3, 4]), b = Tensor([4, 2, 2, 5])
        expectClose(a .> b, [0, 0, 1, 0])
        expectClose(a .< b, [1, 0, 0, 1])
        expectClose(a .>= b, [0, 1, 1, 0])
        expectClose(a .<= b, [1, 1, 0, 1])
        expectClose(a .== b, [0, 1, 0, 0])
        expectClose(a .!= b, [1, 0, 1, 1])
        expectClose(a .> 2, [0, 0, 1, 1])
        expectClose(a .< 2, [1, 0, 0, 0])
        expectClose(a .>= 2, [0, 1, 1, 1])
        expectClose(a .<= 2, [1, 1, 0, 0])
        expectClose(a .== 2, [0, 1, 0, 0])
        // broadcasting
        expectClose(Tensor([1, 3], shape: [2, 1]) .> Tensor([0, 2, 4]), [1, 0, 0, 1, 1, 0], shape: [2, 3])
    }

    @Test func wherePicksWithABroadcastMask() {
        let cond = Tensor([1, 0, 0, 1], shape: [2, 2])
        let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([-1, -2, -3, -4], shape: [2, 2])
        expectClose(Tensor.where(cond, a, b), [1, -2, -3, 4], shape: [2, 2])
        expectClose(Tensor.where(Tensor([1, 0]), Tensor([5, 6], shape: [2, 1]), Tensor(scalar: 0)),
                    [5, 0, 6, 0], shape: [2, 2])
        let x = Tensor([-1, 2, -3])
        expectClose(Tensor.where(x .> 0, x, x * 0.1), [-0.1, 2, -0.3])
    }

    @Test func isFiniteChecksEveryElement() {
        #expect(Tensor([1, 2]).isFinite)
        #expect(!Tensor([1, .nan]).isFinite)
        #expect(!Tensor([.infinity, 0]).isFinite)
    }

    @Test func largeTensorsTakeTheParallelPath() {
        let n = 1 << 19
        let a = Tensor((0..<n).map { Float($0 % 7) }), b = Tensor.full([n], 2)
        let s = (a * b + 1).toArray()
        #expect(s.enumerated().allSatisfy { $0.element == Float($0.offset % 7) * 2 + 1 })
    }
}

// MARK: - Reductions

@Suite("Reductions")
struct ReductionTests {
    private let x = iota([2, 3, 4])
    private let y = Tensor([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], shape: [3, 4])

    @Test func sumOverOneAndSeveralAxes() {
        expectClose(x.sum(), [276], shape: [])
        expectClose(x.sum(axis: 0), (0..<12).map { 12 + 2 * Float($0) }, shape: [3, 4])
        expectClose(x.sum(axis: 1), [12, 15, 18, 21, 48, 51, 54, 57], shape: [2, 4])
        expectClose(x.sum(axis: 2), [6, 22, 38, 54, 70, 86], shape: [2, 3])
        expectClose(x.sum(axis: -1), [6, 22, 38, 54, 70, 86], shape: [2, 3])
        expectClose(x.sum(axes: [0, 2]), [60, 92, 124], shape: [3])
        expectClose(x.sum(axes: [0, 2], keepdim: true), [60, 92, 124], shape: [1, 3, 1])
        expectClose(x.sum(axis: 1, keepdim: true), [12, 15, 18, 21, 48, 51, 54, 57], shape: [2, 1, 4])
        expectClose(x.sum(axes: nil, keepdim: true), [276], shape: [1, 1, 1])
        expectClose(x.sum(axes: [2, 0, -1]), [60, 92, 124], shape: [3])  // duplicates and negatives
        // non-contiguous input
        let t = x.permuted([2, 1, 0])
        expectClose(t.sum(), [276], shape: [])
        // t[k, j, i] = x[i, j, k], so t.sum(axis: 2)[k, j] = x.sum(axis: 0)[j, k] = 12 + 8j + 2k
        var expected: [Float] = []
        for k in 0..<4 { for j in 0..<3 { expected.append(Float(12 + 8 * j + 2 * k)) } }
        expectClose(t.sum(axis: 2), expected, shape: [4, 3])
        expectClose(t.sum(axes: [0, 1]), [66, 210], shape: [2])
    }

    /// A million Float32s should sum to within a few units in the last place
    /// (blocked summation with Double block totals; a single Float32 running
    /// sum would be ~10⁻³ relative off).
    @Test func sumOfManyElementsIsAccurate() {
        let n = 1_000_003
        let x = Tensor.full([n], 0.1)
        let total = x.sum().item()
        #expect(Swift.abs(total - 100_000.3) < 1, "sum \(total)")
        let column = x.reshaped([n, 1]).sum(axis: 0).item()
        #expect(Swift.abs(column - 100_000.3) < 1, "sum(axis: 0) \(column)")
        let rows = x.reshaped([1, n]).sum(axis: 1).item()
        #expect(Swift.abs(rows - 100_000.3) < 1, "sum(axis: 1) \(rows)")
        let mean = x.mean().item()
        #expect(Swift.abs(mean - 0.1) < 1e-5, "mean \(mean)")
    }

    @Test func mean() {
        expectClose(x.mean(), [11.5], shape: [])
        expectClose(x.mean(axis: 1), [4, 5, 6, 7, 16, 17, 18, 19], shape: [2, 4])
        expectClose(x.mean(axes: [0, 2], keepdim: true), [7.5, 11.5, 15.5], shape: [1, 3, 1])
        expectClose(x.mean(axis: -1), [1.5, 5.5, 9.5, 13.5, 17.5, 21.5], shape: [2, 3])
    }

    @Test func maxAndMin() {
        expectClose(y.max(), [9], shape: [])
        expectClose(y.max(axis: 0), [5, 9, 5, 8], shape: [4])
        expectClose(y.max(axis: 1), [4, 9, 8], shape: [3])
        expectClose(y.max(axis: 1, keepdim: true), [4, 9, 8], shape: [3, 1])
        expectClose(y.max(axes: [0, 1]), [9], shape: [])
        expectClose(y.max(axes: [0, 1], keepdim: true), [9], shape: [1, 1])
        expectClose(y.min(), [1], shape: [])
        expectClose(y.min(axis: 0), [3, 1, 2, 1], shape: [4])
        expectClose(y.min(axis: -1), [1, 2, 3], shape: [3])
        expectClose(y.min(axes: nil, keepdim: true), [1], shape: [1, 1])
        expectClose(x.max(axes: [0, 2]), [15, 19, 23], shape: [3])
        expectClose(x.min(axes: [1, 2]), [0, 12], shape: [2])
        expectClose(y.transposed().max(axis: 1), [5, 9, 5, 8], shape: [4])
        expectClose(Tensor([-5, -3, -9]).max(), [-3], shape: [])
    }

    @Test func argmaxAndArgmin() {
        expectClose(y.argmax(), [5], shape: [])
        expectClose(y.argmax(axis: 0), [1, 1, 2, 2], shape: [4])
        expectClose(y.argmax(axis: 1), [2, 1, 3], shape: [3])
        expectClose(y.argmax(axis: 1, keepdim: true), [2, 1, 3], shape: [3, 1])
        expectClose(y.argmin(axis: 1), [1, 2, 1], shape: [3])
        expectClose(y.argmin(), [1], shape: [])
        expectClose(y.transposed().argmax(axis: 0), [2, 1, 3], shape: [3])
        #expect(!y.argmax().requiresGrad)
    }

    @Test func variance() {
        let v = Tensor([1, 2, 3, 4], shape: [2, 2])
        expectClose(v.variance(), [5.0 / 3], shape: [])
        expectClose(v.variance(unbiased: false), [1.25], shape: [])
        expectClose(v.variance(axes: [1]), [0.5, 0.5], shape: [2])
        expectClose(v.variance(axes: [1], unbiased: false), [0.25, 0.25], shape: [2])
        expectClose(v.variance(axes: [0], keepdim: true), [2, 2], shape: [1, 2])
        expectClose(x.variance(axes: [0, 2]), [Float(298.0 / 7), Float(298.0 / 7), Float(298.0 / 7)], shape: [3])
    }

    @Test func reducingAnOutOfRangeAxisTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor.zeros([2, 3]).sum(axis: 2)
        }
    }
}

// MARK: - Softmax

@Suite("Softmax, logSoftmax, logsumexp")
struct SoftmaxTests {
    @Test func softmaxValues() {
        let s = Tensor([1, 2, 3]).softmax()
        expectClose(s, [0.09003057, 0.24472847, 0.66524096], shape: [3])
        let m = Tensor([1, 2, 3, 1, 1, 1], shape: [2, 3])
        expectClose(m.softmax(axis: 1), [0.09003057, 0.24472847, 0.66524096, 1.0 / 3, 1.0 / 3, 1.0 / 3], shape: [2, 3])
        expectClose(m.softmax(axis: 0), [0.5, 0.7310586, 0.8807971, 0.5, 0.26894143, 0.11920292], shape: [2, 3])
        expectClose(m.softmax().sum(axis: -1), [1, 1])
    }

    @Test(arguments: [([1000, 1000], [0.5, 0.5]), ([-1000, 0], [0, 1]), ([0, -1000], [1, 0]),
                      ([-1000, -1000], [0.5, 0.5]), ([88, 89], [0.26894143, 0.7310586])] as [([Float], [Float])])
    func softmaxIsFiniteForExtremeInputs(_ input: [Float], _ expected: [Float]) {
        let s = Tensor(input).softmax()
        #expect(s.isFinite)
        expectClose(s, expected)
    }

    @Test func logSoftmaxAndLogsumexpAreStable() {
        let ln2: Float = 0.6931472
        #expect(Tensor([1000, 1000]).logSoftmax().isFinite)
        expectClose(Tensor([-1000, 0]).logSoftmax(), [-1000, 0])
        expectClose(Tensor([1000, 1000]).logsumexp(), [1000 + ln2], shape: [], rtol: 1e-6)
        expectClose(Tensor([-1000, 0]).logsumexp(), [0], shape: [])
        expectClose(Tensor([-1000, -1000]).logsumexp(), [-1000 + ln2], shape: [], rtol: 1e-6)
        expectClose(Tensor([1, 2, 3]).logsumexp(), [3.407606], shape: [])
        expectClose(Tensor([1, 2, 3]).logSoftmax(), [-2.407606, -1.407606, -0.407606])
        let m = Tensor([1, 2, 3, 1000, 1000, 1000], shape: [2, 3])
        expectClose(m.logsumexp(axis: 1, keepdim: true), [3.407606, 1000 + 1.0986123], shape: [2, 1], rtol: 1e-6)
        expectClose(m.logsumexp(axis: 0), [1000, 1000, 1000], shape: [3])
    }

    /// log softmax(x) = (x − m) − log Σ exp(x − m) is exact to Float32 rounding
    /// of the result; x − logsumexp(x) would round logsumexp (≈ 1000.69 here)
    /// to a multiple of 2⁻¹⁴ ≈ 6·10⁻⁵ first.
    @Test func logSoftmaxOfLargeLogitsKeepsItsPrecision() {
        let ln2: Float = 0.6931472
        expectClose(Tensor([1000, 1000]).logSoftmax(), [-ln2, -ln2])
        expectClose(Tensor([1e6, 1e6]).logSoftmax(), [-ln2, -ln2])
        expectClose(Tensor([1e6, 1e6 - 1]).logSoftmax(), [-0.31326169, -1.3132617])
    }

    @Test func logsumexpOfAllMinusInfinityIsMinusInfinity() {
        let r = Tensor([-.infinity, -.infinity]).logsumexp().item()
        #expect(r == -.infinity)
    }
}

// MARK: - Convolution and pooling

/// The textbook six loops: out[n, o, y, x] = b[o] + Σ w[o, c, i, j]·in[n, c, y·s − p + i·d, x·s − p + j·d],
/// c running over the channels of o's group.
private func naiveConv2d(_ x: Tensor, _ w: Tensor, bias: Tensor?, stride s: Int, padding p: Int,
                         dilation d: Int = 1, groups: Int = 1) -> Tensor {
    let (n, h, wd) = (x.shape[0], x.shape[2], x.shape[3])
    let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let oh = (h + 2 * p - d * (kh - 1) - 1) / s + 1, ow = (wd + 2 * p - d * (kw - 1) - 1) / s + 1
    var out = [Float](repeating: 0, count: n * o * oh * ow)
    for b in 0..<n { for f in 0..<o { for y in 0..<oh { for xx in 0..<ow {
        var total: Float = bias.map { $0[f] } ?? 0
        let group = f / (o / groups)
        for k in 0..<cg { for i in 0..<kh { for j in 0..<kw {
            let ch = group * cg + k
            let iy = y * s - p + i * d, ix = xx * s - p + j * d
            if iy >= 0 && iy < h && ix >= 0 && ix < wd { total += w[f, k, i, j] * x[b, ch, iy, ix] }
        } } }
        out[((b * o + f) * oh + y) * ow + xx] = total
    } } } }
    return Tensor(out, shape: [n, o, oh, ow])
}

/// The gradient of Σ out·r with respect to the input, by the same six loops:
/// each output's weight spread back over the input positions its window read.
private func naiveConv2dInputGradient(_ x: Tensor, _ w: Tensor, _ r: Tensor, stride s: Int, padding p: Int) -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let (oh, ow) = (r.shape[2], r.shape[3])
    var dx = [Float](repeating: 0, count: n * c * h * wd)
    for b in 0..<n { for f in 0..<o { for y in 0..<oh { for xx in 0..<ow {
        for ch in 0..<c { for i in 0..<kh { for j in 0..<kw {
            let iy = y * s - p + i, ix = xx * s - p + j
            if iy >= 0 && iy < h && ix >= 0 && ix < wd { dx[((b * c + ch) * h + iy) * wd + ix] += w[f, ch, i, j] * r[b, f, y, xx] }
        } } }
    } } } }
    return Tensor(dx, shape: x.shape)
}

@Suite("Convolution and pooling")
struct ConvTests {
    /// Windows that hang over the right or bottom edge, where ⌊(w − 1 + p − j) / s⌋
    /// has a negative numerator: Swift's `/` (toward zero) counted one column
    /// too many there, and im2col read — col2im wrote — outside the image.
    @Test(arguments: [
        ([1, 1, 1, 1], [1, 1, 3, 3], 2, 1),  // a 1×1 input, a 3×3 kernel, stride 2, padding 1
        ([3, 2, 1, 1], [2, 2, 3, 3], 2, 1),  // the same, batch 3: a stray column reads the next image
        ([3, 1, 2, 1], [1, 1, 3, 4], 3, 2),  // a kernel wider than the input and one side's padding
        ([1, 1, 2, 2], [1, 1, 3, 3], 2, 1),  // input smaller than the kernel
        ([2, 2, 1, 5], [3, 2, 1, 3], 2, 1),  // height 1
        ([2, 1, 5, 1], [2, 1, 3, 1], 3, 1),  // width 1, stride 3
        ([1, 1, 4, 4], [1, 1, 2, 2], 3, 0),  // stride larger than the kernel
        ([1, 1, 3, 3], [1, 1, 3, 3], 1, 2),  // padding ≥ kernel / 2
        ([2, 3, 5, 4], [2, 3, 3, 2], 2, 2),
        ([1, 2, 1, 3], [2, 2, 1, 3], 2, 1),
    ])
    func edgeWindowsMatchNaiveConvolution(_ xShape: [Int], _ wShape: [Int], _ stride: Int, _ padding: Int) {
        let x = normalTensor(xShape, seed: 31), w = normalTensor(wShape, seed: 32)
        x.requiresGrad = true
        let out = x.conv2d(w, stride: stride, padding: padding)
        let expected = naiveConv2d(x.detach(), w, bias: nil, stride: stride, padding: padding)
        #expect(out.shape == expected.shape, "conv2d \(xShape) * \(wShape), stride \(stride), padding \(padding)")
        expectClose(out, expected, atol: 1e-4, rtol: 1e-4)
        let r = normalTensor(out.shape, seed: 33)
        (out * r).sum().backward()
        expectClose(x.grad!, naiveConv2dInputGradient(x.detach(), w, r, stride: stride, padding: padding), atol: 1e-4, rtol: 1e-4)
    }

    @Test(arguments: [
        (2, 1, 2, 1),  // dilation 2
        (3, 1, 1, 2),  // dilation 3, stride 2
        (1, 2, 1, 1),  // two groups
        (2, 4, 2, 1),  // depthwise (groups = channels), dilated
        (1, 4, 0, 2),
    ])
    func dilatedAndGroupedConvolutionMatchesNaive(_ dilation: Int, _ groups: Int, _ padding: Int, _ stride: Int) {
        let x = normalTensor([2, 4, 7, 6], seed: 41), w = normalTensor([8, 4 / groups, 3, 2], seed: 42)
        let b = normalTensor([8], seed: 43)
        x.requiresGrad = true
        w.requiresGrad = true
        let out = x.conv2d(w, bias: b, stride: stride, padding: padding, dilation: dilation, groups: groups)
        expectClose(out, naiveConv2d(x.detach(), w.detach(), bias: b, stride: stride, padding: padding, dilation: dilation, groups: groups),
                    atol: 1e-4, rtol: 1e-4)
        let report = gradcheck([x, w]) { $0[0].conv2d($0[1], stride: stride, padding: padding, dilation: dilation, groups: groups) }
        #expect(report.passed, "dilation \(dilation), groups \(groups): \(report)")
    }

    @Test func aKernelLargerThanThePaddedInputHasNoWindow() {
        // ⌊−2 / 3⌋ + 1 = 0 windows, whatever the stride (rounding toward zero gave 1).
        #expect(convOutputSize(1, kernel: 3, stride: 3, padding: 0) <= 0)
        #expect(convOutputSize(2, kernel: 5, stride: 4, padding: 1) <= 0)
    }

    @Test func aKernelLargerThanThePaddedInputTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 1, 1]).conv2d(Tensor.zeros([1, 1, 3, 3]), stride: 3)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("conv2d") && message.contains("[1, 1, 3, 3]") && message.contains("[1, 1, 1, 1]"), "\(message)")
    }

    @Test func outputSize() {
        #expect(convOutputSize(28, kernel: 5, stride: 1, padding: 2) == 28)
        #expect(convOutputSize(28, kernel: 2, stride: 2, padding: 0) == 14)
        #expect(convOutputSize(5, kernel: 3, stride: 2, padding: 1) == 3)
    }

    @Test func handComputedConvolution() {
        let x = iota([1, 1, 3, 3])
        let w = Tensor.ones([1, 1, 2, 2])
        expectClose(x.conv2d(w), [8, 12, 20, 24], shape: [1, 1, 2, 2])
        expectClose(x.conv2d(w, bias: Tensor([0.5]), stride: 2, padding: 1), [0.5, 3.5, 9.5, 24.5], shape: [1, 1, 2, 2])
    }

    @Test(arguments: [(1, 0), (2, 1), (1, 2), (3, 0)])
    func matchesNaiveConvolution(_ stride: Int, _ padding: Int) {
        let x = normalTensor([2, 3, 7, 6], seed: 21), w = normalTensor([4, 3, 3, 2], seed: 22), b = normalTensor([4], seed: 23)
        expectClose(x.conv2d(w, bias: b, stride: stride, padding: padding),
                    naiveConv2d(x, w, bias: b, stride: stride, padding: padding), atol: 1e-4, rtol: 1e-4)
        // a non-contiguous input and weight
        let xt = normalTensor([2, 3, 6, 7], seed: 24).transposed()
        let wt = normalTensor([4, 3, 2, 3], seed: 25).transposed()
        expectClose(xt.conv2d(wt, stride: stride, padding: padding),
                    naiveConv2d(xt, wt, bias: nil, stride: stride, padding: padding), atol: 1e-4, rtol: 1e-4)
    }

    @Test func maxPool() {
        let x = iota([1, 1, 4, 4])
        expectClose(x.maxPool2d(kernelSize: 2), [5, 7, 13, 15], shape: [1, 1, 2, 2])
        expectClose(iota([1, 1, 3, 3]).maxPool2d(kernelSize: 2, stride: 1), [4, 5, 7, 8], shape: [1, 1, 2, 2])
        let y = Tensor([1, -2, 3, 0, -5, -6, -7, -8, 9, 4, 2, 1, 0, 0, 0, 0], shape: [1, 2, 2, 4])
        expectClose(y.maxPool2d(kernelSize: 2), [1, 3, 9, 2], shape: [1, 2, 1, 2])
        expectClose((-iota([1, 1, 4, 4])).maxPool2d(kernelSize: 3), [0], shape: [1, 1, 1, 1])
    }

    @Test func channelMismatchTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 3, 5, 5]).conv2d(Tensor.zeros([2, 4, 3, 3]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("conv2d") && message.contains("[1, 3, 5, 5]") && message.contains("[2, 4, 3, 3]"), "\(message)")
    }
}

// MARK: - Matmul

@Suite("Matrix multiplication")
struct MatmulTests {
    @Test func handComputedProducts() {
        let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([5, 6, 7, 8], shape: [2, 2])
        expectClose(a.matmul(b), [19, 22, 43, 50], shape: [2, 2])
        let v = Tensor([1, 2, 3]), w = Tensor([4, 5, 6])
        expectClose(v.matmul(w), [32], shape: [])
        let m = iota([2, 3])  // [[0,1,2],[3,4,5]]
        expectClose(m.matmul(v), [8, 26], shape: [2])
        expectClose(Tensor([1, 2]).matmul(m), [6, 9, 12], shape: [3])
        expectClose(naiveMatmul(a, b), [19, 22, 43, 50], shape: [2, 2])
        expectClose(Tensor.eye(3).matmul(m.transposed()), m.transposed())
    }

    @Test(arguments: [(1, 1, 1), (1, 5, 3), (4, 1, 6), (7, 3, 2), (16, 16, 16), (33, 17, 9), (64, 50, 31)])
    func matchesNaiveOnRandomShapes(_ m: Int, _ k: Int, _ n: Int) {
        let seed = UInt64(m * 10_000 + k * 100 + n)
        let a = normalTensor([m, k], seed: seed), b = normalTensor([k, n], seed: seed + 1)
        let reference = naiveMatmul(a, b)
        expectClose(a.matmul(b), reference, atol: 1e-4, rtol: 1e-4)
        // transposed operands (read by BLAS as transposed, not copied)
        let at = normalTensor([k, m], seed: seed + 2).transposed(), bt = normalTensor([n, k], seed: seed + 3).transposed()
        expectClose(at.matmul(bt), naiveMatmul(at, bt), atol: 1e-4, rtol: 1e-4)
        expectClose(a.matmul(bt), naiveMatmul(a, bt), atol: 1e-4, rtol: 1e-4)
        // sliced operands: a column window (leading dimension > columns, with an
        // offset), every other row (leading dimension 2n), and every other
        // column (column stride 2: not BLAS-compatible, copied first)
        let wide = normalTensor([m, k + 5], seed: seed + 4).sliced(axis: 1, from: 2, to: 2 + k)
        let everyOtherRow = normalTensor([2 * k, n], seed: seed + 5).sliced(axis: 0, from: 1, to: nil, step: 2)
        let everyOtherColumn = normalTensor([k, 2 * n], seed: seed + 6).sliced(axis: 1, from: 1, to: nil, step: 2)
        #expect(everyOtherRow.shape == [k, n] && everyOtherColumn.shape == [k, n])
        expectClose(wide.matmul(everyOtherRow), naiveMatmul(wide, everyOtherRow), atol: 1e-4, rtol: 1e-4)
        expectClose(wide.matmul(everyOtherColumn), naiveMatmul(wide, everyOtherColumn), atol: 1e-4, rtol: 1e-4)
        expectClose(wide.matmul(bt), naiveMatmul(wide, bt), atol: 1e-4, rtol: 1e-4)
        let aColumns = normalTensor([k, 3 * m], seed: seed + 7).sliced(axis: 1, from: 0, to: nil, step: 3).transposed()
        expectClose(aColumns.matmul(b), naiveMatmul(aColumns, b), atol: 1e-4, rtol: 1e-4)
    }

    @Test func batchedProductsBroadcastTheBatchAxes() {
        let a = normalTensor([2, 1, 3, 4], seed: 1), b = normalTensor([5, 4, 2], seed: 2)
        let c = a.matmul(b)
        #expect(c.shape == [2, 5, 3, 2])
        for i in 0..<2 {
            for j in 0..<5 {
                let expected = naiveMatmul(a.selected(axis: 0, index: i).selected(axis: 0, index: 0),
                                           b.selected(axis: 0, index: j))
                expectClose(c.selected(axis: 0, index: i).selected(axis: 0, index: j), expected, atol: 1e-5, rtol: 1e-5)
            }
        }
        // batch × matrix, and a transposed batch
        let p = normalTensor([3, 4, 2], seed: 3).transposed()  // [3, 2, 4]
        let q = normalTensor([4, 6], seed: 4)
        let r = p.matmul(q)
        #expect(r.shape == [3, 2, 6])
        for i in 0..<3 {
            expectClose(r.selected(axis: 0, index: i), naiveMatmul(p.selected(axis: 0, index: i), q), atol: 1e-5, rtol: 1e-5)
        }
        // batched matrix × vector
        let mv = normalTensor([3, 2, 4], seed: 5).matmul(Tensor([1, 0, -1, 2]))
        #expect(mv.shape == [3, 2])
    }

    @Test func largeProductUsesThreadsAndStaysRight() {
        let a = normalTensor([128, 96], seed: 11), b = normalTensor([96, 130], seed: 12)
        expectClose(a.matmul(b), naiveMatmul(a, b), atol: 1e-3, rtol: 1e-4)
    }
}
