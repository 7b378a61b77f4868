/// A fixed-size, reference-counted block of `Float`s: the memory behind one or
/// more tensors.
///
/// Many tensors may share one storage — a transpose or a slice is a new
/// *view* (shape, strides, offset) over the same numbers, not a copy.
/// Lesson 2 explains why this is the heart of a tensor library.
public final class Storage {
    /// How many `Float`s the block holds.
    public let count: Int
    /// The first element. Valid for the storage's lifetime.
    public let base: UnsafeMutablePointer<Float>

    /// Allocates `count` floats without initializing them (fast; for results
    /// that a kernel overwrites entirely).
    public init(uninitializedCount count: Int) {
        self.count = count
        self.base = .allocate(capacity: max(count, 1))
    }

    /// Allocates `count` floats, all equal to `value`.
    public convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    /// Copies an array into new storage.
    public convenience init(_ values: [Float]) {
        self.init(uninitializedCount: values.count)
        values.withUnsafeBufferPointer { source in
            if let s = source.baseAddress { base.initialize(from: s, count: values.count) }
        }
    }

    deinit { base.deallocate() }

    /// The whole block as a buffer.
    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: base, count: count) }
}
