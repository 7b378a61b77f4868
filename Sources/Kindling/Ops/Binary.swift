// Elementwise arithmetic between two tensors, with broadcasting (lesson 3),
// and with a plain number on either side.
//
// Backward of a broadcast op: the input was *stretched* to the output's shape,
// so its gradient is the output gradient *summed back* over the stretched axes
// (`sumToShape`, "un-broadcasting").

extension Tensor {
    /// Sums a gradient over the axes that broadcasting added or stretched, so
    /// it has `target`'s shape again.
    ///
    ///     Tensor.ones([4, 3]).sumToShape([3])     // shape [3], every element 4
    ///     Tensor.ones([4, 3]).sumToShape([4, 1])  // shape [4, 1], every element 3
    ///
    /// The axes to sum are the leading axes `target` lacks, and the axes where
    /// `target` has size 1 but `self` does not; the result is reshaped to
    /// `target`. A gradient that already has the shape is returned as it is.
    public func sumToShape(_ target: [Int]) -> Tensor {
        // BEGIN EXERCISE 6.4 — un-broadcasting: sum a gradient back to a shape (Lessons/06-tensor-autograd.md)
        if shape == target { return self }
        let lead = rank - target.count
        require(lead >= 0, "sumToShape: cannot reduce \(shape) to larger rank \(target)")
        var axes = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[lead + i] != 1 {
            axes.append(lead + i)
        }
        return sum(axes: axes, keepdim: true).reshaped(target)
        // END EXERCISE 6.4
    }

    /// Elementwise sum, broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (sa, sb) = (a.shape, b.shape)
        return record(arithmeticFastPath(.add, a, b) ?? zipElements(a, b, op: "add") { $0 + $1 }, op: "add", inputs: [a, b]) { g in
            [g.sumToShape(sa), g.sumToShape(sb)]
        }
    }

    /// Elementwise difference, broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (sa, sb) = (a.shape, b.shape)
        return record(arithmeticFastPath(.subtract, a, b) ?? zipElements(a, b, op: "sub") { $0 - $1 }, op: "sub", inputs: [a, b]) { g in
            [g.sumToShape(sa), (-g).sumToShape(sb)]
        }
    }

    /// Elementwise product, broadcasting. ∂(ab)/∂a = b, ∂(ab)/∂b = a.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        record(arithmeticFastPath(.multiply, a, b) ?? zipElements(a, b, op: "mul") { $0 * $1 }, op: "mul", inputs: [a, b]) { g in
            mulBackward(g, a, b)
        }
    }

    /// Elementwise quotient, broadcasting. ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b².
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        record(arithmeticFastPath(.divide, a, b) ?? zipElements(a, b, op: "div") { $0 / $1 }, op: "div", inputs: [a, b]) { g in
            divBackward(g, a, b)
        }
    }

    // MARK: With a number

    /// Adds a number to every element.
    public static func + (a: Tensor, s: Float) -> Tensor {
        record(mapElements(a) { $0 + s }, op: "add", inputs: [a]) { g in [g] }
    }
    /// Adds a number to every element.
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }

    /// Subtracts a number from every element.
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    /// A number minus every element.
    public static func - (s: Float, a: Tensor) -> Tensor {
        record(mapElements(a) { s - $0 }, op: "sub", inputs: [a]) { g in [-g] }
    }

    /// Multiplies every element by a number.
    public static func * (a: Tensor, s: Float) -> Tensor {
        record(mapElements(a) { $0 * s }, op: "mul", inputs: [a]) { g in [g * s] }
    }
    /// Multiplies every element by a number.
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }

    /// Divides every element by a number.
    public static func / (a: Tensor, s: Float) -> Tensor {
        record(mapElements(a) { $0 / s }, op: "div", inputs: [a]) { g in [g / s] }
    }
    /// A number divided by every element.
    public static func / (s: Float, a: Tensor) -> Tensor {
        record(mapElements(a) { s / $0 }, op: "div", inputs: [a]) { g in [-g * s / (a * a)] }
    }

    // MARK: Compound assignment (rebinds the variable; records like the plain op)

    /// `a = a + b`.
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    /// `a = a - b`.
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    /// `a = a * b`.
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    /// `a = a / b`.
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
}

// MARK: - Backward rules of the product and the quotient

/// The backward rule of `a * b` (broadcast): ∂L/∂a = g·b and ∂L/∂b = g·a,
/// each summed back to its input's shape. `nil` for an input that does not
/// require grad (nothing would use it).
func mulBackward(_ g: Tensor, _ a: Tensor, _ b: Tensor) -> [Tensor?] {
    // BEGIN EXERCISE 6.6 — the product rule, broadcast (Lessons/06-tensor-autograd.md)
    return [a.requiresGrad ? (g * b).sumToShape(a.shape) : nil,
            b.requiresGrad ? (g * a).sumToShape(b.shape) : nil]
    // END EXERCISE 6.6
}

/// The backward rule of `a / b` (broadcast): ∂L/∂a = g/b and
/// ∂L/∂b = −g·a/b², each summed back to its input's shape. `nil` for an
/// input that does not require grad.
func divBackward(_ g: Tensor, _ a: Tensor, _ b: Tensor) -> [Tensor?] {
    // BEGIN EXERCISE 6.7 — the quotient rule, broadcast (Lessons/06-tensor-autograd.md)
    return [a.requiresGrad ? (g / b).sumToShape(a.shape) : nil,
            b.requiresGrad ? (-g * a / (b * b)).sumToShape(b.shape) : nil]
    // END EXERCISE 6.7
}
