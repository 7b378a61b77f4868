import CZlib
import Foundation
import Kindling
import Testing

// MARK: - Helpers

/// A fresh, empty directory for one test's files.
private func makeTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("kindling-data-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The bytes of an IDX file: magic, type, rank, big-endian dimensions, data.
private func idxBytes(shape: [Int], data: [UInt8], dtype: UInt8 = 0x08) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, dtype, UInt8(shape.count)]
    for n in shape {
        bytes += [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
    }
    return bytes + data
}

/// Writes `bytes` to `name` inside `directory`; returns the path.
@discardableResult
private func write(_ bytes: [UInt8], _ name: String, in directory: String) throws -> String {
    let path = (directory as NSString).appendingPathComponent(name)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// Gzips `path` into `path.gz` with the system's `gzip` (keeping the original); returns the new path.
@discardableResult
private func gzip(_ path: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
    process.arguments = ["-k", "-f", "-n", path]
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "gzip failed on \(path)")
    return path + ".gz"
}

/// A gzip stream of `header` followed by `zeros` zero bytes, made with zlib
/// piece by piece (the zeros never sit in memory at once). Zeros compress
/// about 1000:1: with many of them, this is a "gzip bomb".
private func gzipOfZeros(after header: [UInt8], zeros: Int) throws -> [UInt8] {
    var stream = z_stream()
    try #require(deflateInit2_(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
    defer { deflateEnd(&stream) }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    /// Compresses `input`; with `Z_FINISH`, also ends the stream.
    func deflateAll(_ input: [UInt8], _ flush: Int32) {
        var input = input
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            repeat {
                let produced = buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    _ = deflate(&stream, flush)
                    return out.count - Int(stream.avail_out)
                }
                output += buffer[0..<produced]
            } while stream.avail_out == 0 || (flush == Z_FINISH && stream.avail_in > 0)
        }
    }
    deflateAll(header, Z_NO_FLUSH)
    let piece = [UInt8](repeating: 0, count: 1 << 20)
    for start in stride(from: 0, to: zeros, by: piece.count) {
        deflateAll(Array(piece.prefix(min(piece.count, zeros - start))), Z_NO_FLUSH)
    }
    deflateAll([], Z_FINISH)
    return output
}

/// Expects `body` to throw a `DataError` whose description names `path` and contains `words`.
private func expectDataError(_ path: String, mentioning words: String...,
                             sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    let error = #expect(throws: DataError.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return }
    #expect(error.description.contains(path), "\(error) should name \(path)", sourceLocation: sourceLocation)
    for word in words {
        #expect(error.description.contains(word), "\(error) should mention '\(word)'", sourceLocation: sourceLocation)
    }
}

/// A dataset of `n` examples whose input is `[i, 10 i]` and target `i`, served
/// through the protocol's default (stacking) `batch`.
private struct CountingDataset: Dataset {
    let count: Int
    func example(at index: Int) -> (input: Tensor, target: Tensor) {
        (Tensor([Float(index), Float(10 * index)]), Tensor(scalar: Float(index)))
    }
}

/// All labels served by one epoch of `loader`, batch by batch.
private func epochLabels(_ loader: DataLoader) -> [[Int]] {
    loader.map(\.labels)
}

// MARK: - IDX

@Suite struct DataTests {
    @Test func idxPlainRoundTrip() throws {
        let dir = try makeTemporaryDirectory()
        let data = (0..<24).map { UInt8($0 * 10) }
        let path = try write(idxBytes(shape: [2, 3, 4], data: data), "images-idx3-ubyte", in: dir)
        let array = try readIDX(path)
        #expect(array.shape == [2, 3, 4])
        #expect(array.bytes == data)
    }

    @Test func idxGzipRoundTrip() throws {
        let dir = try makeTemporaryDirectory()
        let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let plain = try write(idxBytes(shape: [5000], data: data), "labels-idx1-ubyte", in: dir)
        let array = try readIDX(try gzip(plain))
        #expect(array.shape == [5000])
        #expect(array.bytes == data)
    }

    @Test func idxMissingFile() throws {
        let path = try makeTemporaryDirectory() + "/nope-idx1-ubyte"
        expectDataError(path, mentioning: "no such file") { _ = try readIDX(path) }
    }

    @Test func idxBadMagic() throws {
        let dir = try makeTemporaryDirectory()
        let path = try write([0x50, 0x4B, 0x03, 0x04, 1, 2, 3, 4], "zip-not-idx", in: dir)
        expectDataError(path, mentioning: "bad magic") { _ = try readIDX(path) }
    }

    @Test func idxUnsupportedType() throws {
        let dir = try makeTemporaryDirectory()
        let path = try write(idxBytes(shape: [1], data: [0, 0, 0, 0], dtype: 0x0D), "floats", in: dir)
        expectDataError(path, mentioning: "unsupported", "0x0d") { _ = try readIDX(path) }
    }

    @Test func idxTruncatedHeader() throws {
        let dir = try makeTemporaryDirectory()
        let tiny = try write([0, 0, 8], "tiny", in: dir)
        expectDataError(tiny, mentioning: "truncated header") { _ = try readIDX(tiny) }
        // Rank 3 promises 12 bytes of dimensions; give only 5.
        let short = try write([0, 0, 8, 3, 0, 0, 0, 2, 0], "short", in: dir)
        expectDataError(short, mentioning: "truncated header") { _ = try readIDX(short) }
    }

    @Test func idxTruncatedData() throws {
        let dir = try makeTemporaryDirectory()
        let path = try write(idxBytes(shape: [10, 28, 28], data: [UInt8](repeating: 1, count: 100)), "cut", in: dir)
        expectDataError(path, mentioning: "truncated data", "7840", "100") { _ = try readIDX(path) }
    }

    @Test func idxTrailingGarbage() throws {
        let dir = try makeTemporaryDirectory()
        let path = try write(idxBytes(shape: [2], data: [1, 2, 3]), "long", in: dir)
        expectDataError(path, mentioning: "trailing garbage") { _ = try readIDX(path) }
    }

    @Test func idxTruncatedGzip() throws {
        let dir = try makeTemporaryDirectory()
        let data = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 7) }
        let full = try gzip(try write(idxBytes(shape: [20_000], data: data), "labels", in: dir))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: full)))
        let cut = try write(Array(bytes.prefix(bytes.count / 2)), "labels-cut.gz", in: dir)
        expectDataError(cut, mentioning: "corrupt gzip") { _ = try readIDX(cut) }
        // Lose only the 8-byte trailer (checksum and size): still an error.
        let noTrailer = try write(Array(bytes.dropLast(8)), "labels-notrailer.gz", in: dir)
        expectDataError(noTrailer, mentioning: "corrupt gzip") { _ = try readIDX(noTrailer) }
    }

    @Test func idxCorruptGzip() throws {
        let dir = try makeTemporaryDirectory()
        let data = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let full = try gzip(try write(idxBytes(shape: [20_000], data: data), "labels", in: dir))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: full)))
        for i in stride(from: 20, to: bytes.count - 8, by: 3) { bytes[i] ^= 0x5A }
        let bad = try write(bytes, "labels-bad.gz", in: dir)
        expectDataError(bad, mentioning: "corrupt gzip") { _ = try readIDX(bad) }
    }

    @Test func idxFromBytesInMemoryNamesTheGivenName() throws {
        let bytes = idxBytes(shape: [2, 2], data: [1, 2, 3, 4])
        let array = try readIDX(bytes: bytes, name: "upload")
        #expect(array.shape == [2, 2] && array.bytes == [1, 2, 3, 4])
        expectDataError("upload", mentioning: "truncated data") { _ = try readIDX(bytes: bytes.dropLast(), name: "upload") }
    }

    /// 64 MiB of zeros after a header that declares 10 bytes: readIDX stops
    /// inflating just past what the header declares, instead of filling memory.
    @Test func idxGzipBombIsRefusedEarly() throws {
        let header = idxBytes(shape: [10], data: [])
        let bomb = try gzipOfZeros(after: header, zeros: 64 << 20)
        #expect(bomb.count < 100_000)
        let path = try write(bomb, "labels-bomb.gz", in: try makeTemporaryDirectory())
        expectDataError(path, mentioning: "refusing to inflate past \(header.count + 10 + (64 << 10)) bytes",
                        "its header declares 18 bytes", "gzip bomb") { _ = try readIDX(path) }
        // Padding that fits in the slack is still read, and reported as what it is.
        let padded = try gzipOfZeros(after: header, zeros: 10 + 1000)
        expectDataError("padded", mentioning: "trailing garbage: 1000 extra bytes") {
            _ = try readIDX(bytes: padded, name: "padded")
        }
    }

    /// However large the header says the data is, inflating stops at `maxInflatedBytes`.
    @Test func idxInflationHasAnAbsoluteCap() throws {
        let big = try gzipOfZeros(after: idxBytes(shape: [1 << 30], data: []), zeros: 2 << 20)
        expectDataError("big", mentioning: "refusing to inflate past 1048576 bytes", "the most readIDX inflates") {
            _ = try readIDX(bytes: big, name: "big", maxInflatedBytes: 1 << 20)
        }
        // Under the cap, the same kind of stream reads (here, a complete one).
        let fits = try gzipOfZeros(after: idxBytes(shape: [1 << 19], data: []), zeros: 1 << 19)
        #expect(try readIDX(bytes: fits, name: "fits", maxInflatedBytes: 1 << 20).shape == [1 << 19])
    }

    // MARK: - Datasets and loaders

    @Test func tensorDatasetBatchGathersRows() {
        let inputs = Tensor((0..<10).map(Float.init), shape: [5, 2])
        let dataset = TensorDataset(inputs: inputs, targets: Tensor([7, 8, 9, 1, 2]))
        #expect(dataset.count == 5)
        let batch = dataset.batch([3, 0, 3])
        #expect(batch.inputs.shape == [3, 2])
        #expect(batch.inputs.toArray() == [6, 7, 0, 1, 6, 7])
        #expect(batch.targets.shape == [3])
        #expect(batch.labels == [1, 7, 1])
        let example = dataset.example(at: 4)
        #expect(example.input.toArray() == [8, 9])
        #expect(example.target.item() == 2)
    }

    @Test func defaultBatchStacksExamples() {
        let batch = CountingDataset(count: 6).batch([2, 5])
        #expect(batch.inputs.shape == [2, 2])
        #expect(batch.inputs.toArray() == [2, 20, 5, 50])
        #expect(batch.labels == [2, 5])
    }

    @Test func loaderBatchCountsInOrder() {
        let loader = DataLoader(CountingDataset(count: 10), batchSize: 3)
        #expect(loader.count == 4)
        #expect(epochLabels(loader) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]])
        let exact = DataLoader(CountingDataset(count: 9), batchSize: 3)
        #expect(exact.count == 3)
        #expect(Array(exact).count == 3)
    }

    @Test func loaderDropLast() {
        let loader = DataLoader(CountingDataset(count: 10), batchSize: 3, dropLast: true)
        #expect(loader.count == 3)
        let batches = epochLabels(loader)
        #expect(batches.count == 3)
        #expect(batches.allSatisfy { $0.count == 3 })
        let tooFew = DataLoader(CountingDataset(count: 2), batchSize: 3, dropLast: true)
        #expect(tooFew.count == 0)
        #expect(Array(tooFew).isEmpty)
    }

    @Test func loaderVisitsEveryIndexOncePerEpoch() {
        let loader = DataLoader(CountingDataset(count: 103), batchSize: 10, shuffle: true, seed: 7)
        for _ in 0..<3 {
            let seen = epochLabels(loader).flatMap { $0 }
            #expect(seen.count == 103)
            #expect(seen.sorted() == Array(0..<103))
        }
        #expect(loader.epoch == 3)
    }

    @Test func seededShuffleIsDeterministic() {
        let data = TensorDataset(inputs: Tensor.zeros([50, 1]), targets: Tensor((0..<50).map(Float.init)))
        let a = DataLoader(data, batchSize: 8, shuffle: true, seed: 42)
        let b = DataLoader(data, batchSize: 8, shuffle: true, seed: 42)
        let aEpochs = (0..<3).map { _ in epochLabels(a).flatMap { $0 } }
        let bEpochs = (0..<3).map { _ in epochLabels(b).flatMap { $0 } }
        #expect(aEpochs == bEpochs, "same seed, same orders")
        #expect(aEpochs[0] != aEpochs[1], "each epoch reshuffles")
        #expect(aEpochs[0] != Array(0..<50), "shuffled, not in order")
        let c = DataLoader(data, batchSize: 8, shuffle: true, seed: 43)
        #expect(epochLabels(c).flatMap { $0 } != aEpochs[0], "another seed, another order")
    }

    @Test func randomPermutationIsAPermutation() {
        var generator = SeededGenerator(seed: 1)
        let p = randomPermutation(1000, using: &generator)
        #expect(p.sorted() == Array(0..<1000))
        #expect(randomPermutation(0, using: &generator).isEmpty)
        #expect(randomPermutation(1, using: &generator) == [0])
    }

    // MARK: - Fashion-MNIST

    @Test func fashionMNISTSearchPathOrder() {
        // A directory the user names is the only one searched: never a silent fallback.
        #expect(FashionMNIST.searchPath(directory: "/my/data") == ["/my/data"])
        #expect(FashionMNIST.searchPath().last == FashionMNIST.systemDirectory)
        #expect(FashionMNIST.classNames.count == 10)
        #expect(FashionMNIST.classNames[9] == "Ankle boot")
    }

    @Test func fashionMNISTNotFoundExplainsWhatToDo() throws {
        let missing = try makeTemporaryDirectory() + "/nothing-here"
        let error = #expect(throws: DataError.self) {
            _ = try FashionMNIST.load(.train, searching: [missing, "/also/missing"])
        }
        let message = try #require(error).description
        #expect(message.contains("train-images-idx3-ubyte"))
        #expect(message.contains(missing))
        #expect(message.contains("/also/missing (does not exist)"))
        #expect(message.contains(
            "install with `sudo apt-get install dataset-fashion-mnist`, or pass a directory / set KINDLING_FASHION_MNIST"))
    }

    @Test func aNamedDirectoryWithoutTheFilesIsAnErrorNotAFallback() throws {
        let empty = try makeTemporaryDirectory()
        let error = #expect(throws: DataError.self) { _ = try FashionMNIST.load(.test, directory: empty) }
        let message = try #require(error).description
        #expect(message.contains(empty) && message.contains("the only one searched")
                && !message.contains(FashionMNIST.systemDirectory), "\(message)")
    }

    @Test func aDestinationIsCheckedBeforeTheWork() throws {
        let folder = try makeTemporaryDirectory()
        try checkWritable(folder + "/w.safetensors")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "the probe file is removed")
        for (path, says) in [(folder + "/missing/w.safetensors", "the folder \(folder)/missing does not exist"),
                             (folder, "is a folder"), ("", "an empty path")] {
            let error = #expect(throws: DestinationError.self) { try checkWritable(path) }
            #expect(error?.description.contains(says) == true, "\(path): \(error?.description ?? "no error")")
        }
        try prepareFolder(folder + "/report/nested")
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: folder + "/report/nested", isDirectory: &isFolder) && isFolder.boolValue)
        // A file where a folder should be.
        #expect(FileManager.default.createFile(atPath: folder + "/plain", contents: Data()))
        #expect(throws: DestinationError.self) { try prepareFolder(folder + "/plain/report") }
    }

    @Test func fashionMNISTLoadsASmallDirectory() throws {
        let dir = try makeTemporaryDirectory()
        let pixels = (0..<(3 * 28 * 28)).map { UInt8($0 % 256) }
        try gzip(try write(idxBytes(shape: [3, 28, 28], data: pixels), "t10k-images-idx3-ubyte", in: dir))
        try write(idxBytes(shape: [3], data: [9, 0, 4]), "t10k-labels-idx1-ubyte", in: dir)  // plain, no .gz
        let test = try FashionMNIST.load(.test, directory: dir)
        #expect(test.inputs.shape == [3, 1, 28, 28])
        #expect(test.targets.shape == [3])
        #expect(test.inputs.toArray() == pixels.map { Float($0) / 255 })
        #expect(test.batch([0, 1, 2]).labels == [9, 0, 4])
    }

    @Test func fashionMNISTRejectsMismatchedFiles() throws {
        let dir = try makeTemporaryDirectory()
        let blank = [UInt8](repeating: 0, count: 2 * 784)
        try write(idxBytes(shape: [2, 28, 28], data: blank), "train-images-idx3-ubyte", in: dir)
        let labels = try write(idxBytes(shape: [3], data: [1, 2, 3]), "train-labels-idx1-ubyte", in: dir)
        expectDataError(labels, mentioning: "3 labels", "2 images") {
            _ = try FashionMNIST.load(.train, directory: dir)
        }

        let small = try makeTemporaryDirectory()
        let images = try write(idxBytes(shape: [2, 8, 8], data: Array(blank.prefix(128))), "train-images-idx3-ubyte", in: small)
        try write(idxBytes(shape: [2], data: [1, 2]), "train-labels-idx1-ubyte", in: small)
        expectDataError(images, mentioning: "28") { _ = try FashionMNIST.load(.train, directory: small) }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: FashionMNIST.systemDirectory),
                   "Fashion-MNIST is not installed (sudo apt-get install dataset-fashion-mnist)"))
    func fashionMNISTRealDataset() throws {
        let start = Date()
        let train = try FashionMNIST.load(.train, directory: FashionMNIST.systemDirectory)
        let seconds = Date().timeIntervalSince(start)
        print("Fashion-MNIST train loaded in \(String(format: "%.3f", seconds)) s")
        let test = try FashionMNIST.load(.test, directory: FashionMNIST.systemDirectory)
        #expect(train.count == 60_000)
        #expect(test.count == 10_000)
        #expect(train.inputs.shape == [60_000, 1, 28, 28])
        #expect(test.inputs.shape == [10_000, 1, 28, 28])
        #expect(train.targets.shape == [60_000])
        for (dataset, perClass) in [(train, 6000), (test, 1000)] {
            let labels = dataset.targets.toArray().map { Int($0) }
            #expect(labels.allSatisfy { (0..<10).contains($0) })
            #expect((0..<10).allSatisfy { c in labels.count(where: { $0 == c }) == perClass }, "balanced classes")
            let pixels = dataset.inputs.toArray()
            #expect(pixels.min() == 0 && pixels.max() == 1)
        }
        #expect(test.batch([0]).labels == [9], "the first test image is an ankle boot")
    }
}

@Suite("Image augmentation")
struct AugmentationTests {
    @Test func shiftsAndFlipsKeepEveryPixelInPlaceOrZero() {
        // One 1×3×4 image numbered 1…12: each output pixel is an input pixel
        // shifted by the same (dy, dx), mirrored or not, or 0 where it came from outside.
        let image = Tensor((1...12).map(Float.init), shape: [1, 1, 3, 4])
        let augmentation = ImageAugmentation(cropPadding: 1, horizontalFlip: true)
        var seen = Set<[Float]>()
        for seed in 0..<200 {
            var generator = SeededGenerator(seed: UInt64(seed))
            let out = augmentation.apply(image, using: &generator).toArray()
            seen.insert(out)
            let explained = [false, true].contains { flip in
                (-1...1).contains { dy in (-1...1).contains { dx in
                    (0..<3).allSatisfy { y in (0..<4).allSatisfy { x in
                        let iy = y + dy, ix = (flip ? 3 - x : x) + dx
                        let expected: Float = (0..<3).contains(iy) && (0..<4).contains(ix) ? Float(iy * 4 + ix + 1) : 0
                        return out[y * 4 + x] == expected
                    } }
                } }
            }
            #expect(explained, "seed \(seed): \(out) is no shift or flip of the image")
        }
        // 3 × 3 shifts × 2 flips, all drawn.
        #expect(seen.count == 18, "\(seen.count) different results")
        var g = SeededGenerator(seed: 1)
        #expect(ImageAugmentation().apply(image, using: &g).toArray() == image.toArray(), "the default changes nothing")
    }

    @Test func theLoaderAugmentsTheSameWayOnEveryRunAndDifferentlyEveryEpoch() {
        let images = Tensor((0..<(6 * 16)).map(Float.init), shape: [6, 1, 4, 4])
        let data = TensorDataset(inputs: images, targets: Tensor((0..<6).map(Float.init), shape: [6]))
        func epochs(_ loader: DataLoader) -> [[Float]] { (0..<2).map { _ in loader.flatMap { $0.inputs.toArray() } } }
        let augmentation = ImageAugmentation(cropPadding: 1, horizontalFlip: true)
        let first = epochs(DataLoader(data, batchSize: 4, seed: 3, augmentation: augmentation))
        let second = epochs(DataLoader(data, batchSize: 4, seed: 3, augmentation: augmentation))
        #expect(first == second, "same seed, same augmented batches")
        #expect(first[0] != first[1], "a new draw every epoch")
        #expect(first[0] != images.toArray())
        // Labels are untouched.
        let labels = DataLoader(data, batchSize: 6, seed: 3, augmentation: augmentation).map(\.labels)
        #expect(labels == [[0, 1, 2, 3, 4, 5]])
    }
}
