#if canImport(Glibc)
import Glibc
#endif

// Elementwise functions of one tensor. Each op is two lines of idea:
// the forward value, and the backward rule — the local derivative times the
// incoming gradient `g` (chain rule, lesson 6).

extension Tensor {
    /// `-x`.
    public static prefix func - (x: Tensor) -> Tensor {
        record(mapElements(x) { -$0 }, op: "neg", inputs: [x]) { g in [-g] }
    }

    /// eˣ. d/dx = eˣ, the output itself.
    public func exp() -> Tensor {
        let out = mapElements(self) { expf($0) }
        let y = out.detach()
        return Tensor.record(out, op: "exp", inputs: [self]) { g in [g * y] }
    }

    /// The natural logarithm. d/dx = 1/x.
    public func log() -> Tensor {
        let out = mapElements(self) { logf($0) }
        return Tensor.record(out, op: "log", inputs: [self]) { g in [g / self] }
    }

    /// √x. d/dx = 1 / (2√x).
    public func sqrt() -> Tensor {
        let out = mapElements(self) { $0.squareRoot() }
        let y = out.detach()
        return Tensor.record(out, op: "sqrt", inputs: [self]) { g in [g / (2 * y)] }
    }

    /// |x|. d/dx = sign(x) (0 at 0).
    public func abs() -> Tensor {
        let out = mapElements(self) { Swift.abs($0) }
        return Tensor.record(out, op: "abs", inputs: [self]) { g in
            [g * mapElements(self) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }]
        }
    }

    /// The hyperbolic tangent. d/dx = 1 − tanh²(x).
    public func tanh() -> Tensor {
        let out = mapElements(self) { tanhf($0) }
        let y = out.detach()
        return Tensor.record(out, op: "tanh", inputs: [self]) { g in
            // BEGIN EXERCISE 6.8 — tanh's backward rule, from the saved output (Lessons/06-tensor-autograd.md)
            _ = y; fatalError("Exercise 6.8 is not done yet: tanh's backward rule, from the saved output — see Lessons/06-tensor-autograd.md")
            // END EXERCISE 6.8
        }
    }

    /// The logistic function 1 / (1 + e⁻ˣ), computed without overflow.
    /// d/dx = σ(x)(1 − σ(x)).
    public func sigmoid() -> Tensor {
        let out = mapElements(self) { $0 >= 0 ? 1 / (1 + expf(-$0)) : expf($0) / (1 + expf($0)) }
        let y = out.detach()
        return Tensor.record(out, op: "sigmoid", inputs: [self]) { g in [g * mapElements(y) { $0 * (1 - $0) }] }
    }

    /// max(x, 0). d/dx = 1 where x > 0, else 0.
    public func relu() -> Tensor {
        let out = mapElements(self) { $0 > 0 ? $0 : 0 }
        let y = out.detach()
        return Tensor.record(out, op: "relu", inputs: [self]) { g in
            // BEGIN EXERCISE 6.9 — relu's backward rule: a mask (Lessons/06-tensor-autograd.md)
            _ = y; fatalError("Exercise 6.9 is not done yet: relu's backward rule: a mask — see Lessons/06-tensor-autograd.md")
            // END EXERCISE 6.9
        }
    }

    /// The Gaussian error linear unit x·Φ(x) (the exact, erf form PyTorch uses
    /// by default). d/dx = Φ(x) + x·φ(x).
    public func gelu() -> Tensor {
        // Φ(x) is kept for the backward pass: erf is the costly part, computed once.
        let cdf = mapElements(self) { 0.5 * (1 + erff($0 * 0.70710678)) }
        let out = zipElements(self, cdf, op: "gelu") { $0 * $1 }
        return Tensor.record(out, op: "gelu", inputs: [self]) { g in
            [g * zipElements(self, cdf, op: "gelu") { x, phi in phi + x * expf(-0.5 * x * x) * 0.39894228 }]
        }
    }

    /// xᵖ for a constant exponent. d/dx = p·xᵖ⁻¹.
    public func pow(_ p: Float) -> Tensor {
        let out = mapElements(self) { powf($0, p) }
        return Tensor.record(out, op: "pow", inputs: [self]) { g in [g * (p * self.pow(p - 1))] }
    }

    /// Each element limited to `[min, max]`. The gradient passes where the
    /// input was inside the range and is 0 where it was clipped.
    public func clamp(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        require(lo <= hi, "clamp: min \(lo) is greater than max \(hi)")
        let out = mapElements(self) { Swift.min(Swift.max($0, lo), hi) }
        return Tensor.record(out, op: "clamp", inputs: [self]) { g in
            [g * mapElements(self) { $0 >= lo && $0 <= hi ? 1 : 0 }]
        }
    }
}
