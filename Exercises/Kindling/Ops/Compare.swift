// Comparisons give masks of 0s and 1s (they are not differentiable);
// `where` picks between two tensors with such a mask.

extension Tensor {
    /// 1 where `a > b`, else 0 (broadcasting).
    public static func .> (a: Tensor, b: Tensor) -> Tensor { zipElements(a, b, op: ".>") { $0 > $1 ? 1 : 0 } }
    /// 1 where `a < b`, else 0 (broadcasting).
    public static func .< (a: Tensor, b: Tensor) -> Tensor { zipElements(a, b, op: ".<") { $0 < $1 ? 1 : 0 } }
    /// 1 where `a >= b`, else 0 (broadcasting).
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { zipElements(a, b, op: ".>=") { $0 >= $1 ? 1 : 0 } }
    /// 1 where `a <= b`, else 0 (broadcasting).
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { zipElements(a, b, op: ".<=") { $0 <= $1 ? 1 : 0 } }
    /// 1 where `a == b`, else 0 (broadcasting).
    public static func .== (a: Tensor, b: Tensor) -> Tensor { zipElements(a, b, op: ".==") { $0 == $1 ? 1 : 0 } }
    /// 1 where `a != b`, else 0 (broadcasting).
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { zipElements(a, b, op: ".!=") { $0 != $1 ? 1 : 0 } }

    /// 1 where an element is greater than `s`, else 0.
    public static func .> (a: Tensor, s: Float) -> Tensor { mapElements(a) { $0 > s ? 1 : 0 } }
    /// 1 where an element is less than `s`, else 0.
    public static func .< (a: Tensor, s: Float) -> Tensor { mapElements(a) { $0 < s ? 1 : 0 } }
    /// 1 where an element is at least `s`, else 0.
    public static func .>= (a: Tensor, s: Float) -> Tensor { mapElements(a) { $0 >= s ? 1 : 0 } }
    /// 1 where an element is at most `s`, else 0.
    public static func .<= (a: Tensor, s: Float) -> Tensor { mapElements(a) { $0 <= s ? 1 : 0 } }
    /// 1 where an element equals `s`, else 0.
    public static func .== (a: Tensor, s: Float) -> Tensor { mapElements(a) { $0 == s ? 1 : 0 } }

    /// `a` where `condition` is non-zero, `b` elsewhere (all three broadcast).
    /// The gradient goes to `a` through the mask and to `b` through its complement.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShapes(broadcastShapes(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        let mask = mapElements(condition.detach().expanded(to: shape)) { $0 != 0 ? 1 : 0 }
        let chosen = zipElements(zipElements(mask, a, op: "where") { $0 != 0 ? $1 : 0 },
                                 zipElements(mask, b, op: "where") { $0 != 0 ? 0 : $1 }, op: "where") { $0 + $1 }
        let (sa, sb) = (a.shape, b.shape)
        return record(chosen, op: "where", inputs: [a, b]) { g in
            [(g * mask).sumToShape(sa), (g * (1 - mask)).sumToShape(sb)]
        }
    }

    /// Whether every element is finite (no NaN or ±∞).
    public var isFinite: Bool {
        toArray().allSatisfy { $0.isFinite }
    }
}
