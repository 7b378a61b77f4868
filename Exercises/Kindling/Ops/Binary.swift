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
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        precondition(lead >= 0, "sumToShape: cannot reduce \(shape) to larger rank \(target)")
        var axes = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[lead + i] != 1 {
            axes.append(lead + i)
        }
        return sum(axes: axes, keepdim: true).reshaped(target)
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
            [a.requiresGrad ? (g * b).sumToShape(a.shape) : nil,
             b.requiresGrad ? (g * a).sumToShape(b.shape) : nil]
        }
    }

    /// Elementwise quotient, broadcasting. ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b².
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        record(arithmeticFastPath(.divide, a, b) ?? zipElements(a, b, op: "div") { $0 / $1 }, op: "div", inputs: [a, b]) { g in
            [a.requiresGrad ? (g / b).sumToShape(a.shape) : nil,
             b.requiresGrad ? (-g * a / (b * b)).sumToShape(b.shape) : nil]
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
