// Fashion-MNIST: 70,000 grayscale 28×28 pictures of clothing in 10 classes,
// a drop-in, harder replacement for MNIST digits (Xiao, Rasul & Vollgraf, 2017). Lesson 10.
//
// On Debian/Ubuntu, `sudo apt-get install dataset-fashion-mnist` puts the four
// IDX files under /usr/share/datasets/fashion-mnist.

import Foundation

/// Finds and loads the Fashion-MNIST dataset.
///
///     let train = try FashionMNIST.load(.train)   // 60,000 examples
///     let test = try FashionMNIST.load(.test)     // 10,000 examples
///     FashionMNIST.classNames[test.batch([0]).labels[0]]  // "Ankle boot"
public enum FashionMNIST {
    /// The name of each class, indexed by label 0…9.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Which part of the dataset to load.
    public enum Split: Sendable {
        /// The 60,000 training examples.
        case train
        /// The 10,000 test examples.
        case test

        /// The prefix of this split's file names.
        var filePrefix: String { self == .train ? "train" : "t10k" }
    }

    /// Where the Debian package `dataset-fashion-mnist` installs the files.
    public static let systemDirectory = "/usr/share/datasets/fashion-mnist"
    /// The environment variable that may name a directory holding the files.
    public static let environmentVariable = "KINDLING_FASHION_MNIST"
    /// The side of each square image, in pixels.
    public static let imageSize = 28

    /// The directories `load` searches: `directory` alone when given (a folder
    /// the user names is the one they mean: falling back to another would train
    /// on data they did not ask for); otherwise `$KINDLING_FASHION_MNIST` (if
    /// set), then `systemDirectory`.
    public static func searchPath(directory: String? = nil) -> [String] {
        if let directory, !directory.isEmpty { return [directory] }
        let fromEnvironment = ProcessInfo.processInfo.environment[environmentVariable]
        return [fromEnvironment, systemDirectory].compactMap { $0 }.filter { !$0.isEmpty }
    }

    /// Loads one split from the first directory of `searchPath(directory:)`
    /// that holds it, as inputs `[N, 1, 28, 28]` (pixels scaled to 0…1) and
    /// targets `[N]` (labels 0…9 as `Float`).
    ///
    /// Throws a `DataError` if no directory holds the files (the message lists
    /// where it looked and how to install them) or if a file is corrupt.
    public static func load(_ split: Split, directory: String? = nil) throws -> TensorDataset {
        do {
            return try load(split, searching: searchPath(directory: directory))
        } catch let error as DataError where directory != nil && error.reason.hasPrefix("Fashion-MNIST not found") {
            // The user named the place: say so, rather than how to name one.
            throw DataError(path: error.path, reason: """
                Fashion-MNIST not found in \(directory!), the directory you named (the only one searched) \
                \(FileManager.default.fileExists(atPath: directory!) ? "holds neither the .gz nor the plain files" : "does not exist").
                """)
        }
    }

    /// Loads one split from the first of `directories` that holds its image
    /// and label files (`.gz` or not).
    public static func load(_ split: Split, searching directories: [String]) throws -> TensorDataset {
        let imagesName = "\(split.filePrefix)-images-idx3-ubyte"
        let labelsName = "\(split.filePrefix)-labels-idx1-ubyte"
        for directory in directories {
            if let imagesPath = existingFile(imagesName, in: directory),
               let labelsPath = existingFile(labelsName, in: directory) {
                return try load(imagesPath: imagesPath, labelsPath: labelsPath)
            }
        }
        throw notFound(imagesName + "[.gz]", labelsName + "[.gz]", searched: directories)
    }

    /// Reads and checks an image file and a label file, then converts them to tensors.
    static func load(imagesPath: String, labelsPath: String) throws -> TensorDataset {
        let images = try readIDX(imagesPath)
        let labels = try readIDX(labelsPath)
        let side = imageSize
        guard images.shape.count == 3, images.shape[1] == side, images.shape[2] == side else {
            throw DataError(path: imagesPath,
                            reason: "expected images of shape [N, \(side), \(side)], found \(images.shape)")
        }
        guard labels.shape.count == 1 else {
            throw DataError(path: labelsPath, reason: "expected labels of shape [N], found \(labels.shape)")
        }
        guard images.shape[0] == labels.shape[0] else {
            throw DataError(path: labelsPath,
                            reason: "\(labels.shape[0]) labels for the \(images.shape[0]) images in \(imagesPath)")
        }
        if let bad = labels.bytes.firstIndex(where: { Int($0) >= classNames.count }) {
            throw DataError(path: labelsPath, reason: "label \(labels.bytes[bad]) at index \(bad) is not a class 0…9")
        }
        let n = images.shape[0]
        return TensorDataset(inputs: floatTensor(images.bytes, shape: [n, 1, side, side], dividedBy: 255),
                             targets: floatTensor(labels.bytes, shape: [n], dividedBy: 1))
    }

    /// Fast path: bytes to floats in one tight loop over raw pointers,
    /// straight into a fresh tensor's storage (60,000 images in milliseconds).
    static func floatTensor(_ bytes: [UInt8], shape: [Int], dividedBy divisor: Float) -> Tensor {
        let storage = Storage(uninitializedCount: bytes.count)
        let out = storage.base
        bytes.withUnsafeBufferPointer { source in
            for i in 0..<source.count { out[i] = Float(source[i]) / divisor }
        }
        return Tensor(storage: storage, shape: shape)
    }

    /// The path of `name.gz` or `name` in `directory`, whichever exists (gzip first).
    private static func existingFile(_ name: String, in directory: String) -> String? {
        let base = (directory as NSString).appendingPathComponent(name)
        return [base + ".gz", base].first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The error for "no directory holds the files": where we looked, and what to do.
    private static func notFound(_ images: String, _ labels: String, searched: [String]) -> DataError {
        let places = searched.map { directory in
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory)
            return "  - \(directory)" + (!exists ? " (does not exist)" : !isDirectory.boolValue ? " (not a directory)" : "")
        }.joined(separator: "\n")
        let environment = ProcessInfo.processInfo.environment[environmentVariable] == nil
            ? "\n  ($\(environmentVariable) is not set)" : ""
        return DataError(
            path: images,
            reason: """
                Fashion-MNIST not found (nor \(labels)). Searched:
                \(places)\(environment)
                To get it: install with `sudo apt-get install dataset-fashion-mnist`, \
                or pass a directory / set \(environmentVariable).
                """)
    }
}
