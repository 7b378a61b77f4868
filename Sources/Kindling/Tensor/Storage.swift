import Synchronization

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
        self.base = BlockCache.take(count) ?? .allocate(capacity: max(count, 1))
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

    deinit {
        if !BlockCache.give(base, count: count) { base.deallocate() }
    }
}

/// Keeps recently freed large blocks for reuse by the next storage of the
/// same size (memory is the subject of a lesson to come).
///
/// A training step allocates the same large buffers every iteration. Fresh
/// memory from the operating system arrives as untouched pages that are
/// zero-filled on first write — for a 16 MB tensor that costs more than the
/// arithmetic. Reusing the block skips it. PyTorch's allocators cache the
/// same way.
enum BlockCache {
    /// Blocks smaller than this many floats go straight back to `malloc`,
    /// which already recycles small blocks well.
    static let minimumCount = 1 << 14
    /// At most this many floats (1 GiB) are kept in the cache.
    static let capacity = 1 << 28

    struct State {
        var blocks: [Int: [UInt]] = [:]  // count → addresses of free blocks
        var cached = 0
    }

    static let state = Mutex(State())

    /// A cached block of exactly `count` floats, if one is free.
    static func take(_ count: Int) -> UnsafeMutablePointer<Float>? {
        guard count >= minimumCount else { return nil }
        return state.withLock { s in
            guard let address = s.blocks[count]?.popLast() else { return nil }
            s.cached -= count
            return UnsafeMutablePointer(bitPattern: address)
        }
    }

    /// Offers a block for reuse; `false` if the cache does not keep it.
    static func give(_ block: UnsafeMutablePointer<Float>, count: Int) -> Bool {
        guard count >= minimumCount else { return false }
        #if DEBUG
        // A cached block is still mapped, so a stale pointer into it would
        // silently read the next tensor's numbers. In debug builds fill it
        // with NaN first: such a bug, or a new storage not fully written,
        // then shows up as NaN in the tests.
        block.update(repeating: .nan, count: count)
        #endif
        let address = UInt(bitPattern: block)
        return state.withLock { s in
            guard s.cached + count <= capacity else { return false }
            s.blocks[count, default: []].append(address)
            s.cached += count
            return true
        }
    }
}
