using System.Buffers.Binary;
using System.Text;
using NanoCam.Nn.Checkpoints;
using NanoCam.Nn.Models;

namespace NanoCam.Nn.Tests;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-ckpt").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SaveThenLoad_RestoresEveryParameterBitForBit_WithPyTorchNames()
    {
        var saved = Architectures.Create("resnet", 3, 5, seed: 1);
        var path = Path.Combine(_dir, "m.safetensors");
        Checkpoint.Save(saved, path, new Dictionary<string, string> { ["arch"] = "resnet" });
        var loaded = Architectures.Create("resnet", 3, 5, seed: 2);
        var metadata = Checkpoint.Load(loaded, path);
        Assert.Equal("resnet", metadata["arch"]);
        var a = saved.StateDict();
        var b = loaded.StateDict();
        Assert.Contains("features.0.weight", a.Keys);
        Assert.Contains("features.1.running_mean", a.Keys);
        foreach (var (name, tensor) in a) Assert.Equal(tensor.ToArray(), b[name].ToArray());
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Header_IsTheSafetensorsLayout()
    {
        var path = Path.Combine(_dir, "t.safetensors");
        SafeTensors.Save(path, [("w", Tensor.FromArray([1f, 2f], 2))]);
        var bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + n) % 8);
        Assert.Equal("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", Encoding.UTF8.GetString(bytes, 8, (int)n).TrimEnd());
        Assert.Equal(2f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 4)));
    }

    [Fact]
    public void TruncatedFile_NamesTheTensorThatDoesNotFit()
    {
        var path = Path.Combine(_dir, "m.safetensors");
        Checkpoint.Save(Architectures.Create("gapcnn", 1, 10, 1), path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(Architectures.Create("gapcnn", 1, 10, 1), path));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("'fc.", e.Message);
    }

    [Fact]
    public void LyingHeaderLength_IsRejectedBeforeAllocating()
    {
        var path = Path.Combine(_dir, "lie.safetensors");
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue / 2);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("header claims", e.Message);
    }

    [Fact]
    public void CorruptedHeader_AndOffsetsThatDisagreeWithTheShape_AreRejected()
    {
        var path = Path.Combine(_dir, "bad.safetensors");
        WriteRaw(path, "{\"w\": {\"dtype\": \"F32\", \"shape\": [1000000, 1000000], \"data_offsets\": [0, 8]}}", 8);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("'w'", e.Message);
        WriteRaw(path, "{\"w\": {\"dtype\": ", 8);
        Assert.Contains("not JSON", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path)).Message);
        WriteRaw(path, "{\"w\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8);
        Assert.Contains("I64", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path)).Message);
    }

    [Fact]
    public void MismatchedArchitecture_NamesTheTensorAndBothShapes()
    {
        var path = Path.Combine(_dir, "m.safetensors");
        Checkpoint.Save(Architectures.Create("gapcnn", 1, 10, 1), path);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(Architectures.Create("gapcnn", 3, 10, 1), path));
        Assert.Contains("features.0.weight", e.Message);
        Assert.Contains("[32, 1, 3, 3]", e.Message);
        Assert.Contains("[32, 3, 3, 3]", e.Message);
    }

    [Fact]
    public void HalfPrecisionTensors_AreWidened()
    {
        var path = Path.Combine(_dir, "h.safetensors");
        var data = new byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(data, BitConverter.HalfToUInt16Bits((Half)1.5f));
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2), BitConverter.HalfToUInt16Bits((Half)(-0.25f)));
        WriteRaw(path, "{\"h\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 0, data);
        Assert.Equal([1.5f, -0.25f], SafeTensors.Load(path).Tensors["h"].ToArray());
    }

    private static void WriteRaw(string path, string header, int dataBytes, byte[]? data = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + (data?.Length ?? dataBytes)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data?.CopyTo(bytes, 8 + h.Length);
        File.WriteAllBytes(path, bytes);
    }
}
