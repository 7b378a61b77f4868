// Comparisons give masks of 0s and 1s (they are not differentiable);
// `where` picks between two tensors with such a mask. All of them broadcast
// (lesson 3).

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
        // The condition read as the full shape (a stride-0 view), turned into a contiguous 0/1 mask.
        let stretched = Tensor(storage: condition.storage, shape: shape,
                               strides: broadcastStrides(shape: condition.shape, strides: condition.strides, to: shape),
                               offset: condition.offset)
        let mask = mapElements(stretched) { $0 != 0 ? 1 : 0 }
        let chosen = selectElements(mask, a, b)
        let (sa, sb) = (a.shape, b.shape)
        return record(chosen, op: "where", inputs: [a, b]) { g in
            [(g * mask).sumToShape(sa), (g * (1 - mask)).sumToShape(sb)]
        }
    }

    /// The forward pass of `where`: `a`'s element wherever `mask` is non-zero,
    /// `b`'s elsewhere — one pass, no autograd. `mask` is contiguous and has the
    /// result's shape; `a` and `b` are read through broadcast strides.
    static func selectElements(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        // BEGIN EXERCISE 3.5 — where: pick from a or b by a mask (Lessons/03-broadcasting.md)
        let shape = mask.shape
        let sa = broadcastStrides(shape: a.shape, strides: a.strides, to: shape)
        let sb = broadcastStrides(shape: b.shape, strides: b.strides, to: shape)
        let out = Storage(uninitializedCount: mask.count)
        let m = mask.storage.base + mask.offset, pa = a.storage.base, pb = b.storage.base, o = out.base
        forEachOffsetPair(shape: shape, stridesA: sa, offsetA: a.offset, stridesB: sb, offsetB: b.offset) { i, p, q in
            o[i] = m[i] != 0 ? pa[p] : pb[q]
        }
        return Tensor(storage: out, shape: shape)
        // END EXERCISE 3.5
    }

    /// Whether every element is finite (no NaN or ±∞).
    public var isFinite: Bool {
        toArray().allSatisfy { $0.isFinite }
    }
}
