// Data augmentation: random changes to a training image that keep its label.
// A shirt shifted two pixels left, or seen in a mirror, is still a shirt; the
// network that sees such variants each epoch learns the class, not the exact
// pixels of 60,000 images, and generalizes better (lesson 12).

/// Random crops (shifts) and horizontal flips of [N, C, H, W] image batches,
/// as torchvision's `RandomCrop(size, padding: p)` and `RandomHorizontalFlip()`.
///
///     let loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 0,
///                             augmentation: ImageAugmentation(cropPadding: 2, horizontalFlip: true))
public struct ImageAugmentation: Sendable {
    /// Pad each side with this many zeros, then crop back to the original size
    /// at a random place: a shift of up to `cropPadding` pixels each way (0: none).
    public var cropPadding: Int
    /// Mirror each image left to right with probability ½.
    public var horizontalFlip: Bool

    /// An augmentation; the default changes nothing.
    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        require(cropPadding >= 0, "ImageAugmentation: cropPadding must be ≥ 0, got \(cropPadding)")
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// A new batch: each image shifted by (dy, dx), both drawn from
    /// −cropPadding…cropPadding, with zeros where it moved away from the edge,
    /// and then mirrored when a coin says so. Draws come from `generator`.
    public func apply(_ images: Tensor, using generator: inout SeededGenerator) -> Tensor {
        require(images.rank == 4, "ImageAugmentation: images \(images.shape) must be [N, C, H, W]")
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let x = images.contiguous()
        let out = Tensor.zeros(images.shape)
        let src = x.storage.base + x.offset, dst = out.storage.base
        let span = UInt64(2 * cropPadding + 1)
        for image in 0..<n {
            let dy = Int(generator.next(upperBound: span)) - cropPadding
            let dx = Int(generator.next(upperBound: span)) - cropPadding
            let flip = horizontalFlip && generator.next() & 1 == 1
            for channel in 0..<c {
                let plane = (image * c + channel) * h * w
                for y in 0..<h {
                    let iy = y + dy
                    guard iy >= 0 && iy < h else { continue }  // shifted in from outside: stays 0
                    for xOut in 0..<w {
                        let ix = (flip ? w - 1 - xOut : xOut) + dx
                        if ix >= 0 && ix < w { dst[plane + y * w + xOut] = src[plane + iy * w + ix] }
                    }
                }
            }
        }
        withExtendedLifetime(x) {}
        return out
    }
}
