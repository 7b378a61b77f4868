// A picture file written byte by byte (lesson: reports).
//
// BMP is the simplest image format a browser shows: a fixed header, a colour
// table, then the pixels uncompressed. An 8-bit BMP stores one byte per pixel
// that indexes the colour table; with a table of 256 greys (entry k = grey k)
// the byte *is* the brightness. Wrapped as a `data:` URI, the picture lives
// inside the HTML page itself.

import Foundation

/// A grayscale image, one byte (0 = black … 255 = white) per pixel, row by row from the top.
struct GrayscaleBitmap: Equatable {
    /// Pixels per row.
    let width: Int
    /// Rows.
    let height: Int
    /// `width × height` brightness values, row-major from the top-left.
    let pixels: [UInt8]

    /// An image of the given size; `pixels` must fill it exactly.
    init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height,
                     "GrayscaleBitmap: \(pixels.count) pixels do not fill \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Brightness values 0…1 (clamped) turned into bytes 0…255.
    init(width: Int, height: Int, intensities: [Float]) {
        let bytes = intensities.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
        self.init(width: width, height: height, pixels: bytes)
    }

    /// The bytes of an 8-bit BMP file holding this image.
    var bmp: [UInt8] {
        let rowSize = (width + 3) / 4 * 4  // each stored row is padded to a multiple of 4 bytes
        let headerSize = 14 + 40, paletteSize = 256 * 4
        let pixelOffset = headerSize + paletteSize
        var out = ByteWriter()
        // File header: the magic "BM", the file size, two reserved zeros, where the pixels start.
        out.bytes += Array("BM".utf8)
        out.u32(pixelOffset + rowSize * height)
        out.u32(0)
        out.u32(pixelOffset)
        // Info header (BITMAPINFOHEADER): size, dimensions, 1 plane, 8 bits per
        // pixel, no compression, pixel-data size, 72 dpi, 256 colours used.
        out.u32(40)
        out.u32(width)
        out.u32(height)  // positive height: rows are stored bottom-up
        out.u16(1)
        out.u16(8)
        out.u32(0)
        out.u32(rowSize * height)
        out.u32(2835)
        out.u32(2835)
        out.u32(256)
        out.u32(0)
        // Colour table: entry k is grey level k, as blue, green, red, unused.
        for k in 0..<256 { out.bytes += [UInt8(k), UInt8(k), UInt8(k), 0] }
        // Pixels: the bottom row first, each padded with zeros.
        for row in (0..<height).reversed() {
            out.bytes += pixels[row * width..<(row + 1) * width]
            out.bytes += Array(repeating: 0, count: rowSize - width)
        }
        return out.bytes
    }

    /// The image as a `data:` URI, usable directly as an `<img src>`.
    var dataURI: String { "data:image/bmp;base64," + Data(bmp).base64EncodedString() }
}

/// Appends little-endian integers, the byte order BMP headers use.
struct ByteWriter {
    /// Everything written so far.
    var bytes: [UInt8] = []

    /// Appends the low 16 bits of `value`, low byte first.
    mutating func u16(_ value: Int) {
        for shift in stride(from: 0, to: 16, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// Appends the low 32 bits of `value`, low byte first.
    mutating func u32(_ value: Int) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }
}
