#if canImport(Glibc)
import Glibc
#endif

import Synchronization

/// A small, fast, seedable pseudo-random generator (xoshiro256**), so that
/// every run with the same seed draws the same numbers on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole sequence is fixed by `seed`.
    public init(seed: UInt64) {
        // SplitMix64 spreads one seed over the four words of state.
        var x = seed
        func next() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (next(), next(), next(), next())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform `Float` in `[0, 1)` with 24 random bits.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A standard normal sample (Box–Muller).
    public mutating func nextNormal() -> Float {
        var u1 = nextUnitFloat()
        while u1 <= 0 { u1 = nextUnitFloat() }
        let u2 = nextUnitFloat()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * Float.pi * u2)
    }
}

/// The generator behind `Tensor.rand`, `randn`, `uniform`, weight
/// initialization and dropout.
let globalGenerator = Mutex(SeededGenerator(seed: 0x5EED))

/// A generator of one's own, lent to a task by `withSeed(_:_:)`.
final class ScopedGenerator: Sendable {
    let generator: Mutex<SeededGenerator>
    init(seed: UInt64) { generator = Mutex(SeededGenerator(seed: seed)) }
}

enum RandomScope {
    /// The generator of the innermost `withSeed` around this task, if any.
    @TaskLocal static var generator: ScopedGenerator?
}

/// Re-seeds Kindling's global generator: after `manualSeed(n)` the same
/// program draws the same random numbers.
///
/// The global generator is shared by everything running at once. When other
/// work may draw from it in between (tests running in parallel, say), use
/// `withSeed(_:_:)`, which gives its body a generator of its own.
public func manualSeed(_ seed: UInt64) {
    globalGenerator.withLock { $0 = SeededGenerator(seed: seed) }
}

/// Runs `body` with a private generator seeded with `seed`: every random draw
/// inside it (`Tensor.randn`, layer initialization, dropout, shuffling) comes
/// from that generator, whatever else runs at the same time. Like `noGrad`,
/// the choice belongs to the current task and the tasks it starts.
///
///     let model = withSeed(0) { Sequential(Linear(784, 128), ReLU(), Linear(128, 10)) }
public func withSeed<Result>(_ seed: UInt64, _ body: () throws -> Result) rethrows -> Result {
    try RandomScope.$generator.withValue(ScopedGenerator(seed: seed)) { try body() }
}

/// Runs `body` with exclusive use of the generator in effect: the one of the
/// innermost `withSeed`, or else the global one.
public func withRandomGenerator<Result>(_ body: (inout SeededGenerator) -> Result) -> Result {
    if let scoped = RandomScope.generator {
        return scoped.generator.withLock { body(&$0) }
    }
    return globalGenerator.withLock { body(&$0) }
}
