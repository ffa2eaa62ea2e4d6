using System.Buffers.Binary;
using System.Text;
using NanoCam.Imaging;

namespace NanoCam.Data.Tests.Imaging;

public class NpyTests
{
    [Fact]
    public void Write_ThenRead_RoundTripsValuesAndShape()
    {
        using var temp = new TempDirectory();
        string path = temp.File("a.npy");
        float[] data = [1, -2.5f, 3, float.MaxValue, 0, 1e-20f];
        Npy.Write(path, data, [2, 3]);
        var (read, shape) = Npy.Read(path);
        Assert.Equal(data, read);
        Assert.Equal([2, 3], shape);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Encode_HeaderBytesMatchTheNpyV1Layout()
    {
        byte[] bytes = Npy.Encode([1f, 2, 3, 4, 5, 6], [2, 3]);
        // magic \x93NUMPY, version 1.0, header length 118 = 0x76 little-endian: 10 + 118 = 128, a multiple of 64.
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0x76, 0x00 }, bytes[..10]);
        string header = Encoding.ASCII.GetString(bytes, 10, 118);
        Assert.Equal("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".PadRight(117) + "\n", header);
        Assert.Equal(128 + 6 * 4, bytes.Length);
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F }, bytes[128..132]); // 1.0f little-endian
    }

    [Fact]
    public void Encode_OneDimensionalAndScalarShapesUsePythonTupleSyntax()
    {
        Assert.Contains("'shape': (3,)", Encoding.ASCII.GetString(Npy.Encode([1f, 2, 3], [3])));
        Assert.Contains("'shape': ()", Encoding.ASCII.GetString(Npy.Encode([7f], [])));
        var (data, shape) = Npy.Decode(Npy.Encode([7f], []));
        Assert.Equal([7f], data);
        Assert.Empty(shape);
    }

    [Fact]
    public void Read_TruncatedData_NamesTheFile()
    {
        using var temp = new TempDirectory();
        string path = temp.File("cut.npy");
        byte[] bytes = Npy.Encode(new float[100], [10, 10]);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 7)]);
        var error = Assert.Throws<InvalidDataException>(() => Npy.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Decode_RejectsBadMagicAndUnsupportedDtype()
    {
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => Npy.Decode(new byte[20], "x.npy")).Message);
        byte[] ints = Build("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
        var error = Assert.Throws<InvalidDataException>(() => Npy.Decode(ints, "ints.npy"));
        Assert.Contains("'<i4'", error.Message);
        Assert.Contains("ints.npy", error.Message);
    }

    [Fact]
    public void Decode_NarrowsFloat64()
    {
        var body = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(body, 0.1);
        BinaryPrimitives.WriteDoubleLittleEndian(body.AsSpan(8), -3);
        var (data, shape) = Npy.Decode(Build("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", body));
        Assert.Equal([0.1f, -3f], data);
        Assert.Equal([2], shape);
    }

    private static byte[] Build(string dict, byte[] body)
    {
        int length = dict.Length + 1;
        length += (64 - (10 + length) % 64) % 64;
        var header = Encoding.ASCII.GetBytes(dict.PadRight(length - 1) + "\n");
        var bytes = new byte[10 + length + body.Length];
        bytes[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(bytes, 1);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)length);
        header.CopyTo(bytes, 10);
        body.CopyTo(bytes, 10 + length);
        return bytes;
    }
}
