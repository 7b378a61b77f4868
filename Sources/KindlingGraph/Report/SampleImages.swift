// A few test images with the model's answers (lesson: reports).
//
// Numbers summarize; pictures convince. Seeing *which* shirts the model calls
// T-shirts tells you more than "87% accuracy". The choice is deterministic —
// the first images of the test set, then some mistakes — so two reports of the
// same run show the same pictures.

import Kindling

/// One test image shown in the report, with what the model said about it.
struct SampleImage {
    /// The example's index in the test set.
    let index: Int
    /// The picture.
    let bitmap: GrayscaleBitmap
    /// The class the model predicted.
    let predicted: Int
    /// The true class.
    let actual: Int

    /// Whether the model got it right.
    var isCorrect: Bool { predicted == actual }
}

/// Choosing and decoding the test images the report shows.
enum SampleImages {
    /// The examples to show: the first `first` of the test set (right or
    /// wrong), then up to `mistakes` misclassified ones from after those.
    static func choose(from predictions: Predictions, first: Int = 30, mistakes: Int = 10) -> [Int] {
        let leading = Array(0..<min(first, predictions.count))
        let laterMistakes = predictions.misclassified.filter { $0 >= leading.count }.prefix(mistakes)
        return leading + laterMistakes
    }

    /// The examples at `indices` as pictures, or `nil` when the dataset's
    /// inputs are not grayscale images (shape `[1, H, W]` or `[H, W]` each).
    static func load(_ indices: [Int], from dataset: any Dataset, predictions: Predictions) -> [SampleImage]? {
        guard !indices.isEmpty else { return [] }
        let inputs = dataset.batch(indices).inputs
        guard let (height, width) = imageSize(ofBatch: inputs.shape) else { return nil }
        let intensities = displayIntensities(inputs.toArray())
        let size = height * width
        return indices.enumerated().map { k, index in
            SampleImage(index: index,
                        bitmap: GrayscaleBitmap(width: width, height: height,
                                                intensities: Array(intensities[k * size..<(k + 1) * size])),
                        predicted: predictions.predicted[index],
                        actual: predictions.actual[index])
        }
    }

    /// The height and width of each image in a batch shaped `[N, 1, H, W]` or
    /// `[N, H, W]`, or `nil` for any other shape (colour images, flat vectors).
    static func imageSize(ofBatch shape: [Int]) -> (height: Int, width: Int)? {
        switch shape.count {
        case 4 where shape[1] == 1: return (shape[2], shape[3])
        case 3: return (shape[1], shape[2])
        default: return nil
        }
    }

    /// Pixel values ready to show as 0 (black) … 1 (white). Values already in
    /// 0…1 are kept; anything else (say, normalized to mean 0) is stretched
    /// from its smallest to its largest value.
    static func displayIntensities(_ values: [Float]) -> [Float] {
        guard let low = values.min(), let high = values.max() else { return values }
        if low >= 0 && high <= 1 { return values }
        let range = high - low
        return values.map { range > 0 ? ($0 - low) / range : 0 }
    }
}
