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

/// Re-seeds Kindling's global generator: after `manualSeed(n)` the same
/// program draws the same random numbers.
public func manualSeed(_ seed: UInt64) {
    globalGenerator.withLock { $0 = SeededGenerator(seed: seed) }
}

/// Runs `body` with exclusive use of the global generator.
public func withGlobalGenerator<Result>(_ body: (inout SeededGenerator) -> Result) -> Result {
    globalGenerator.withLock { body(&$0) }
}
