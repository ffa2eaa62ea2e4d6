using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace NanoCam.Cli.Tests;

/// <summary>
/// The libraries' public API, as their NuGet packages expose it, is tracked in api/NAME.txt (one line per public type
/// and member, sorted): a change to it shows in review as a change to those files. When this test fails, the API
/// changed: run it with NANOCAM_UPDATE_API=1 to write the new listing, and review `git diff api/`.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Libraries() =>
        ["NanoCam.Core", "NanoCam.Cpu", "NanoCam.Gpu", "NanoCam.Nn", "NanoCam.Onnx", "NanoCam.Explain", "NanoCam.Imaging", "NanoCam.Data"];

    [Theory]
    [MemberData(nameof(Libraries))]
    public void PublicApi_IsTheTrackedListing(string library)
    {
        string listing = PublicApi.Describe(Assembly.Load(new AssemblyName(library)));
        string path = Path.Combine(CliHarness.RepoRoot, "api", $"{library}.txt");
        if (Environment.GetEnvironmentVariable("NANOCAM_UPDATE_API") == "1")
        {
            File.WriteAllText(path, listing);
            return;
        }
        Assert.True(File.Exists(path), $"api/{library}.txt is missing: run the tests with NANOCAM_UPDATE_API=1 to write it");
        string tracked = File.ReadAllText(path).ReplaceLineEndings("\n");
        if (tracked == listing) return;
        var (old, now) = (tracked.Split('\n').ToHashSet(), listing.Split('\n').ToHashSet());
        var removed = old.Except(now).Take(10).Select(l => $"- {l}");
        var added = now.Except(old).Take(10).Select(l => $"+ {l}");
        Assert.Fail($"the public API of {library} changed (run with NANOCAM_UPDATE_API=1 to accept, then review git diff api/):\n{string.Join("\n", removed.Concat(added))}");
    }

    [Fact]
    public void Listing_NamesGenericsArraysAndNullables_AndLeavesOutWhatTheCompilerMadeUp()
    {
        string listing = PublicApi.Describe(typeof(NanoCam.Explain.CamExplainer).Assembly);
        Assert.Contains("class NanoCam.Explain.Explainer : System.IDisposable", listing);
        Assert.Contains("  method NanoCam.Explain.Explanation Explain(System.String imagePath, NanoCam.Explain.Method method, NanoCam.Explain.CamTarget? target, System.String? layer)", listing);
        Assert.Contains("  static method NanoCam.Explain.CamTarget Box(System.Single x1, System.Single y1, System.Single x2, System.Single y2, System.Int32? index, System.Collections.Generic.IReadOnlyList<System.Int32> outputDims, NanoCam.Explain.Targets.DetectorLayout layout)", listing);
        Assert.DoesNotContain("<Clone>$", listing);
        Assert.DoesNotContain("EqualityContract", listing);
    }
}

/// <summary>A public API as text: each exported type, then its public and protected members, sorted.</summary>
internal static class PublicApi
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static string Describe(Assembly assembly)
    {
        var text = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            text.Append(TypeLine(type)).Append('\n');
            foreach (var line in Members(type).Distinct().OrderBy(l => l, StringComparer.Ordinal)) text.Append("  ").Append(line).Append('\n');
        }
        return text.ToString();
    }

    private static string TypeLine(Type type)
    {
        string kind = type.IsInterface ? "interface" : type.IsEnum ? "enum" : type.IsValueType ? "struct"
            : typeof(Delegate).IsAssignableFrom(type.BaseType) ? "delegate" : type.IsAbstract && type.IsSealed ? "static class"
            : type.IsAbstract ? "abstract class" : type.IsSealed ? "sealed class" : "class";
        var bases = new List<string>();
        if (type.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum) && b != typeof(MulticastDelegate)) bases.Add(Name(b));
        bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(i => Name(i)).Where(n => !n.StartsWith("System.IEquatable<")).Order(StringComparer.Ordinal));
        return $"{kind} {Name(type)}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : "")}";
    }

    private static IEnumerable<string> Members(Type type)
    {
        static bool Visible(MethodBase? m) => m is not null && (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly);
        static bool Made(MemberInfo m) => m.IsDefined(typeof(CompilerGeneratedAttribute)) || m.Name.Contains('<') || m.Name == "EqualityContract";
        if (type.IsEnum)
        {
            foreach (var name in Enum.GetNames(type)) yield return $"value {name}";
            yield break;
        }
        foreach (var member in type.GetMembers(Declared))
        {
            if (Made(member)) continue;
            switch (member)
            {
                case ConstructorInfo c when Visible(c) && !c.IsStatic:
                    yield return $"{Access(c)}ctor({Parameters(c)})";
                    break;
                case MethodInfo m when Visible(m) && !m.IsSpecialName:
                    yield return $"{Access(m)}{(m.IsStatic ? "static " : m.IsAbstract ? "abstract " : "")}method {Name(m.ReturnType, NullableOf(m.ReturnParameter))} {m.Name}{Generic(m)}({Parameters(m)})";
                    break;
                case PropertyInfo p when Visible(p.GetMethod) || Visible(p.SetMethod):
                    var accessor = (p.GetMethod ?? p.SetMethod)!;
                    string setter = Visible(p.SetMethod) ? (p.SetMethod!.ReturnParameter.GetRequiredCustomModifiers().Any(t => t.Name == "IsExternalInit") ? " init;" : " set;") : "";
                    yield return $"{Access(accessor)}{(accessor.IsStatic ? "static " : "")}property {Name(p.PropertyType, NullableOf(p))} {p.Name} {{{(Visible(p.GetMethod) ? " get;" : "")}{setter} }}";
                    break;
                case FieldInfo f when f.IsPublic || f.IsFamily:
                    yield return $"{(f.IsFamily ? "protected " : "")}{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{(f.IsInitOnly ? "readonly " : "")}field {Name(f.FieldType, NullableOf(f))} {f.Name}";
                    break;
                case EventInfo e when Visible(e.AddMethod):
                    yield return $"event {Name(e.EventHandlerType!)} {e.Name}";
                    break;
            }
        }
    }

    private static string Access(MethodBase m) => m.IsFamily || m.IsFamilyOrAssembly ? "protected " : "";

    private static string Generic(MethodInfo m) => m.IsGenericMethodDefinition ? $"<{string.Join(", ", m.GetGenericArguments().Select(a => a.Name))}>" : "";

    private static string Parameters(MethodBase m) =>
        string.Join(", ", m.GetParameters().Select(p => $"{(p.IsOut ? "out " : p.ParameterType.IsByRef ? "ref " : "")}{(p.IsDefined(typeof(ParamArrayAttribute)) ? "params " : "")}{Name(p.ParameterType, NullableOf(p))} {p.Name}"));

    private static readonly NullabilityInfoContext Nullability = new();

    private static NullabilityInfo? NullableOf(ParameterInfo p) { try { return Nullability.Create(p); } catch (Exception) { return null; } }
    private static NullabilityInfo? NullableOf(PropertyInfo p) { try { return Nullability.Create(p); } catch (Exception) { return null; } }
    private static NullabilityInfo? NullableOf(FieldInfo f) { try { return Nullability.Create(f); } catch (Exception) { return null; } }

    /// <summary>A type as C# spells it, with namespaces: System.Collections.Generic.IReadOnlyList&lt;System.Int32&gt;, System.Single[], NanoCam.Tensor?.</summary>
    private static string Name(Type type, NullabilityInfo? nullability = null)
    {
        if (type.IsByRef) return Name(type.GetElementType()!, nullability);
        if (Nullable.GetUnderlyingType(type) is { } inner) return Name(inner) + "?";
        string suffix = nullability?.ReadState == NullabilityState.Nullable && !type.IsValueType ? "?" : "";
        if (type.IsArray) return Name(type.GetElementType()!, nullability?.ElementType) + "[" + new string(',', type.GetArrayRank() - 1) + "]" + suffix;
        if (type.IsGenericParameter) return type.Name + suffix;
        string name = (type.IsNested ? Name(type.DeclaringType!) + "." : type.Namespace is { } ns ? ns + "." : "") + type.Name;
        if (type.IsGenericType)
        {
            name = name[..name.IndexOf('`')];
            var arguments = type.GetGenericArguments();
            var argumentNullability = nullability?.GenericTypeArguments;
            name += "<" + string.Join(", ", arguments.Select((a, i) => Name(a, argumentNullability is { } n && i < n.Length ? n[i] : null))) + ">";
        }
        return name + suffix;
    }
}
