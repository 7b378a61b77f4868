// Weight initialization (lesson 8). Start weights too large and activations
// explode layer after layer; too small and they vanish. These schemes scale
// the random draw by the layer's fan-in/fan-out so the signal keeps its size.

/// Initialization schemes, matching `torch.nn.init`.
public enum Init {
    /// (fan-in, fan-out) of a weight: [out, in] for a linear layer,
    /// [out, in, kh, kw] for a convolution (each multiplied by kh·kw).
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        require(shape.count >= 2, "Init.fans: weight shape \(shape) needs at least 2 axes")
        // BEGIN EXERCISE 8.3 — fan-in and fan-out of a weight shape (Lessons/08-modules.md)
        fatalError("Exercise 8.3 is not done yet: fan-in and fan-out of a weight shape — see Lessons/08-modules.md")
        // END EXERCISE 8.3
    }

    /// Xavier/Glorot uniform: U(−b, b) with b = gain·√(6 / (fanIn + fanOut)).
    /// Suits tanh and sigmoid layers.
    public static func xavierUniform(_ shape: [Int], gain: Float = 1) -> Tensor {
        let (fanIn, fanOut) = fans(shape)
        let bound = gain * (6 / Float(fanIn + fanOut)).squareRoot()
        return Tensor.uniform(shape, low: -bound, high: bound)
    }

    /// Xavier/Glorot normal: N(0, σ²) with σ = gain·√(2 / (fanIn + fanOut)).
    public static func xavierNormal(_ shape: [Int], gain: Float = 1) -> Tensor {
        let (fanIn, fanOut) = fans(shape)
        return Tensor.randn(shape) * (gain * (2 / Float(fanIn + fanOut)).squareRoot())
    }

    /// Kaiming/He uniform: U(−b, b) with b = gain·√(3 / fanIn) and
    /// gain = √(2 / (1 + a²)) (leaky-ReLU slope `a`; `a = 0` for ReLU).
    /// PyTorch's default for `Linear` and `Conv2d` weights is `a = √5`.
    public static func kaimingUniform(_ shape: [Int], a: Float = 0) -> Tensor {
        // BEGIN EXERCISE 8.4 — Kaiming-uniform initialization (Lessons/08-modules.md)
        fatalError("Exercise 8.4 is not done yet: Kaiming-uniform initialization — see Lessons/08-modules.md")
        // END EXERCISE 8.4
    }

    /// Kaiming/He normal: N(0, σ²) with σ = √(2 / (1 + a²)) / √fanIn.
    public static func kaimingNormal(_ shape: [Int], a: Float = 0) -> Tensor {
        let std = (2 / (1 + a * a)).squareRoot() / Float(fans(shape).fanIn).squareRoot()
        return Tensor.randn(shape) * std
    }
}
