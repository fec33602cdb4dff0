using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Mono.Cecil;
using Mono.Cecil.Cil;

// Rewrites TorchSharp.dll under Directory so that every method that calls into libtorch keeps its managed objects
// (this, its arguments and its locals) reachable until it returns. See build/TorchSharpKeepAlive.targets for why.
// Idempotent (the rewritten assembly carries a marker); the file is replaced, never written through (bin/ may link
// it into the NuGet cache).
public class KeepTorchSharpObjectsAlive : Task
{
    public const string Marker = "TrainingService.KeepAlive";

    public string Directory { get; set; } = "";

    public override bool Execute()
    {
        var path = Path.Combine(Directory, "TorchSharp.dll");
        if (!File.Exists(path)) return true;
        try
        {
            var woven = Weave(path);
            Log.LogMessage(MessageImportance.Normal, woven < 0
                ? path + " already keeps its objects alive."
                : "Kept objects alive in " + woven + " methods of " + path);
        }
        catch (Exception e)
        {
            // Unwoven, the process can crash at random under garbage collection: never ship that silently.
            Log.LogError("Could not rewrite " + path + ": " + e);
        }
        return !Log.HasLoggedErrors;
    }

    private static int Weave(string path)
    {
        int woven;
        var temp = path + ".weaving";
        using (var module = ModuleDefinition.ReadModule(path, new ReaderParameters { InMemory = true, ReadSymbols = false }))
        {
            var assembly = module.Assembly;
            if (assembly.CustomAttributes.Any(IsMarker)) return -1;
            var gc = new TypeReference("System", "GC", module, module.TypeSystem.CoreLibrary);
            var keepAlive = new MethodReference("KeepAlive", module.TypeSystem.Void, gc) { HasThis = false };
            keepAlive.Parameters.Add(new ParameterDefinition(module.TypeSystem.Object));
            woven = module.GetTypes().SelectMany(t => t.Methods).Count(m => Weave(m, keepAlive));
            AddMarker(module, assembly);
            module.Write(temp);
        }
        File.Delete(path);
        File.Move(temp, path);
        return woven;
    }

    /// <summary>Before every return of a method that calls a native function, each object it holds is passed to
    /// GC.KeepAlive: the JIT then reports them live through the native call, and no finalizer can free what the call
    /// still reads.</summary>
    private static bool Weave(MethodDefinition method, MethodReference keepAlive)
    {
        if (!method.HasBody) return false;
        var body = method.Body;
        if (!body.Instructions.Any(CallsNative)) return false;
        if (body.Instructions.Any(i => i.OpCode == OpCodes.Tail)) return false; // nothing may come between a tail call and its return
        var loads = new List<Func<Instruction>>();
        if (method.HasThis && !method.DeclaringType.IsValueType) loads.Add(() => Instruction.Create(OpCodes.Ldarg_0));
        foreach (var p in method.Parameters.Where(p => IsObject(p.ParameterType))) loads.Add(() => Instruction.Create(OpCodes.Ldarg, p));
        foreach (var v in body.Variables.Where(v => !v.IsPinned && IsObject(v.VariableType))) loads.Add(() => Instruction.Create(OpCodes.Ldloc, v));
        if (loads.Count == 0) return false;

        // Long branch forms: a short branch across the inserted instructions could overflow its one-byte offset, and
        // Cecil would write it truncated.
        foreach (var i in body.Instructions)
            if (LongForms.TryGetValue(i.OpCode.Code, out var wide)) i.OpCode = wide;
        var il = body.GetILProcessor();
        foreach (var ret in body.Instructions.Where(i => i.OpCode == OpCodes.Ret).ToList())
        {
            // The return instruction becomes the first load, so branches and handler ends that targeted it now target
            // the whole sequence; the value being returned stays on the stack beneath.
            var first = loads[0]();
            ret.OpCode = first.OpCode;
            ret.Operand = first.Operand;
            var at = ret;
            for (var k = 0; k < loads.Count; k++)
            {
                if (k > 0) il.InsertAfter(at, at = loads[k]());
                il.InsertAfter(at, at = Instruction.Create(OpCodes.Call, keepAlive));
            }
            il.InsertAfter(at, Instruction.Create(OpCodes.Ret));
        }
        return true;
    }

    private static readonly Dictionary<Code, OpCode> LongForms = new Dictionary<Code, OpCode>
    {
        [Code.Br_S] = OpCodes.Br, [Code.Brfalse_S] = OpCodes.Brfalse, [Code.Brtrue_S] = OpCodes.Brtrue,
        [Code.Beq_S] = OpCodes.Beq, [Code.Bge_S] = OpCodes.Bge, [Code.Bgt_S] = OpCodes.Bgt, [Code.Ble_S] = OpCodes.Ble,
        [Code.Blt_S] = OpCodes.Blt, [Code.Bne_Un_S] = OpCodes.Bne_Un, [Code.Bge_Un_S] = OpCodes.Bge_Un,
        [Code.Bgt_Un_S] = OpCodes.Bgt_Un, [Code.Ble_Un_S] = OpCodes.Ble_Un, [Code.Blt_Un_S] = OpCodes.Blt_Un,
        [Code.Leave_S] = OpCodes.Leave,
    };

    private static bool CallsNative(Instruction i) =>
        (i.OpCode == OpCodes.Call || i.OpCode == OpCodes.Callvirt) && i.Operand is MethodDefinition { IsPInvokeImpl: true };

    /// <summary>A reference to a heap object (as the signature encodes it): not a value type, pointer, byref or open
    /// generic parameter.</summary>
    private static bool IsObject(TypeReference type) => type.MetadataType switch
    {
        MetadataType.Class or MetadataType.Object or MetadataType.String or MetadataType.Array => true,
        MetadataType.GenericInstance => !type.IsValueType,
        _ => false,
    };

    private static bool IsMarker(CustomAttribute a) =>
        a.AttributeType.FullName == "System.Reflection.AssemblyMetadataAttribute"
        && a.ConstructorArguments.Count == 2 && Equals(a.ConstructorArguments[0].Value, Marker);

    private static void AddMarker(ModuleDefinition module, AssemblyDefinition assembly)
    {
        var attribute = new TypeReference("System.Reflection", "AssemblyMetadataAttribute", module, module.TypeSystem.CoreLibrary);
        var constructor = new MethodReference(".ctor", module.TypeSystem.Void, attribute) { HasThis = true };
        constructor.Parameters.Add(new ParameterDefinition(module.TypeSystem.String));
        constructor.Parameters.Add(new ParameterDefinition(module.TypeSystem.String));
        var marker = new CustomAttribute(constructor);
        marker.ConstructorArguments.Add(new CustomAttributeArgument(module.TypeSystem.String, Marker));
        marker.ConstructorArguments.Add(new CustomAttributeArgument(module.TypeSystem.String, "GC.KeepAlive before every return of methods that call libtorch"));
        assembly.CustomAttributes.Add(marker);
    }
}
