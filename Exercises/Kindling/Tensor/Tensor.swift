import Synchronization

/// An n-dimensional array of `Float`s on the CPU that can record the
/// operations applied to it, so gradients can flow back (`backward()`).
///
/// A tensor is a *view*: a `storage` of numbers plus a `shape`, the `strides`
/// to step along each axis and the `offset` of its first element. Views such as
/// `transposed()` or slices share storage with their source (lesson 2).
///
///     let x = Tensor([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
///     let y = (x * x).sum()
///     y.backward()
///     x.grad  // tensor([[2, 4], [6, 8]])
public final class Tensor {
    /// The memory this tensor reads from; possibly shared with other views.
    public let storage: Storage
    /// The size of each axis. `[]` is a scalar.
    public let shape: [Int]
    /// How far to move in `storage` to step one along each axis.
    public let strides: [Int]
    /// Where element `[0, 0, …]` lives in `storage`.
    public let offset: Int

    /// Whether operations on this tensor are recorded for `backward()`.
    /// Set it on leaves (inputs and parameters); results inherit it.
    public var requiresGrad: Bool {
        didSet {
            require(node == nil || requiresGrad,
                    "requiresGrad: cannot switch off gradients of a result of '\(node!.op)'; use detach()")
        }
    }

    /// The gradient accumulated by `backward()` calls, or `nil` before any
    /// (or after `zeroGrad()`). Same shape as the tensor.
    public var grad: Tensor?

    /// The operation that produced this tensor, if it was recorded (lesson 6).
    public internal(set) var node: GraphNode?

    /// A view over existing storage. Most code uses the other initializers.
    public init(storage: Storage, shape: [Int], strides: [Int], offset: Int = 0, requiresGrad: Bool = false) {
        require(shape.count == strides.count, "Tensor: shape \(shape) and strides \(strides) differ in rank")
        require(shape.allSatisfy { $0 >= 0 }, "Tensor: negative size in shape \(shape)")
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.requiresGrad = requiresGrad
        Tensor.live.add(1, ordering: .relaxed)
    }

    /// A fresh contiguous tensor over new storage.
    convenience init(storage: Storage, shape: [Int]) {
        self.init(storage: storage, shape: shape, strides: contiguousStrides(shape))
    }

    /// A tensor holding `values` laid out row-major in `shape`.
    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) {
        require(values.count == elementCount(shape),
                "Tensor: \(values.count) values do not fill shape \(shape) (\(elementCount(shape)) elements)")
        self.init(storage: Storage(values), shape: shape, strides: contiguousStrides(shape),
                  requiresGrad: requiresGrad)
    }

    /// A one-dimensional tensor holding `values`.
    public convenience init(_ values: [Float], requiresGrad: Bool = false) {
        self.init(values, shape: [values.count], requiresGrad: requiresGrad)
    }

    /// A scalar (shape `[]`) tensor.
    public convenience init(scalar value: Float, requiresGrad: Bool = false) {
        self.init([value], shape: [], requiresGrad: requiresGrad)
    }

    deinit {
        Tensor.live.subtract(1, ordering: .relaxed)
        // Tear the graph down iteratively: a long chain released recursively
        // (each deinit releasing the next) would overflow the stack.
        guard let node else { return }
        var pending = node.releaseInputs()
        while var tensor = pending.popLast() {
            if isKnownUniquelyReferenced(&tensor), let inner = tensor.node {
                pending.append(contentsOf: inner.releaseInputs())
            }
        }
    }

    // MARK: Basic facts

    /// The number of axes.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { elementCount(shape) }
    /// Whether the elements lie in storage row-major without gaps.
    public var isContiguous: Bool { Kindling.isContiguous(shape: shape, strides: strides) }
    /// A tensor with no recorded operation: an input or a parameter.
    public var isLeaf: Bool { node == nil }

    /// All elements in row-major order, as a Swift array.
    public func toArray() -> [Float] {
        let c = contiguous()
        return withExtendedLifetime(c) { Array(UnsafeBufferPointer(start: c.storage.base + c.offset, count: c.count)) }
    }

    /// The single value of a one-element tensor.
    public func item() -> Float {
        require(count == 1, "item: tensor of shape \(shape) has \(count) elements, not 1")
        return storage.base[offset]
    }

    /// The element at a full multi-index, e.g. `t[1, 2]`.
    public subscript(index: Int...) -> Float {
        require(index.count == rank, "subscript: \(index.count) indices for a tensor of shape \(shape)")
        for (i, (k, n)) in zip(index, shape).enumerated() {
            require(k >= 0 && k < n, "subscript: index \(k) is out of range for axis \(i) of size \(n)")
        }
        return storage.base[storageOffset(of: index, strides: strides, offset: offset)]
    }

    // MARK: Live-tensor count

    private static let live = Atomic<Int>(0)
    /// How many `Tensor` objects exist right now. Tests use it to prove that
    /// graphs are freed (no retain cycles).
    public static var liveCount: Int { live.load(ordering: .relaxed) }
}

/// The record of one operation in the autograd graph: what it was, which
/// tensors it read, and how to turn the gradient of its output into gradients
/// of those inputs (lesson 6).
public final class GraphNode {
    /// The operation's name, e.g. `"matmul"` or `"add"`.
    public let op: String
    /// The tensors the operation read, in order.
    public private(set) var inputs: [Tensor]
    /// The module calls that were running when the operation was recorded
    /// (innermost last), or `nil` outside any module.
    public let scope: ModuleScope?
    /// Given the gradient of the output, the gradients of each input (`nil`
    /// for inputs that need none). Dropped once used, unless the graph is retained.
    var backward: ((Tensor) -> [Tensor?])?

    init(op: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.scope = ModuleScope.current
        self.backward = backward
    }

    /// Whether `backward()` already went through this node and freed it.
    public var isFreed: Bool { backward == nil }

    /// Drops the backward closure (and the tensors it saved), hands back the inputs.
    func releaseInputs() -> [Tensor] {
        backward = nil
        defer { inputs = [] }
        return inputs
    }
}
