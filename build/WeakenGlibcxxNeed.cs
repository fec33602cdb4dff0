using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Marks the GLIBCXX_3.4.32 version need of every libLibTorchSharp.so under Directory as weak, when the host's
// libstdc++ does not provide that version. Idempotent; leaves files alone on hosts that do not need it.
public class WeakenGlibcxxNeed : Task
{
    public string Directory { get; set; } = "";

    private const string Needed = "GLIBCXX_3.4.32";
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        if (!System.IO.Directory.Exists(Directory)) return true;
        var libs = System.IO.Directory.GetFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        if (libs.Length == 0) return true;
        if (HostProvides(Needed))
        {
            Log.LogMessage(MessageImportance.Low, "Host libstdc++ provides " + Needed + "; TorchSharp needs no patch.");
            return true;
        }
        foreach (var lib in libs)
        {
            try
            {
                var changed = Weaken(lib);
                Log.LogMessage(MessageImportance.Normal,
                    changed ? "Marked " + Needed + " weak in " + lib : lib + " already loads on this host.");
            }
            catch (Exception e)
            {
                Log.LogWarning("Could not patch " + lib + ": " + e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    private static bool HostProvides(string version)
    {
        string[] candidates =
        {
            "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/lib64/libstdc++.so.6",
        };
        var pattern = Encoding.ASCII.GetBytes(version + "\0");
        foreach (var path in candidates)
        {
            if (!File.Exists(path)) continue;
            return IndexOf(File.ReadAllBytes(path), pattern) >= 0;
        }
        return false; // no libstdc++ found where we look: patching is harmless, so patch
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i <= haystack.Length - needle.Length; i++)
        {
            var j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    // Walks .gnu.version_r (Elf64_Verneed / Elf64_Vernaux) and sets VER_FLG_WEAK on the entry named Needed.
    private static bool Weaken(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[4] != 2 || bytes[5] != 1)
            throw new InvalidDataException("not a little-endian ELF64 file");
        var shoff = (long)BitConverter.ToUInt64(bytes, 0x28);
        int shentsize = BitConverter.ToUInt16(bytes, 0x3A);
        int shnum = BitConverter.ToUInt16(bytes, 0x3C);
        for (var s = 0; s < shnum; s++)
        {
            var sh = (int)(shoff + (long)s * shentsize);
            if (BitConverter.ToUInt32(bytes, sh + 4) != ShtGnuVerneed) continue;
            var offset = (long)BitConverter.ToUInt64(bytes, sh + 0x18);
            var link = (int)BitConverter.ToUInt32(bytes, sh + 0x28);
            var strtab = (long)BitConverter.ToUInt64(bytes, (int)(shoff + (long)link * shentsize) + 0x18);
            var changed = false;
            var vn = offset;
            while (true)
            {
                int count = BitConverter.ToUInt16(bytes, (int)vn + 2);
                var aux = vn + BitConverter.ToUInt32(bytes, (int)vn + 8);
                for (var a = 0; a < count; a++)
                {
                    var name = ReadString(bytes, strtab + BitConverter.ToUInt32(bytes, (int)aux + 8));
                    var flagsAt = (int)aux + 4;
                    var flags = BitConverter.ToUInt16(bytes, flagsAt);
                    if (name == Needed && (flags & VerFlgWeak) == 0)
                    {
                        flags |= VerFlgWeak;
                        bytes[flagsAt] = (byte)(flags & 0xff);
                        bytes[flagsAt + 1] = (byte)(flags >> 8);
                        changed = true;
                    }
                    aux += BitConverter.ToUInt32(bytes, (int)aux + 12);
                }
                var next = BitConverter.ToUInt32(bytes, (int)vn + 12);
                if (next == 0) break;
                vn += next;
            }
            if (!changed) return false;
            var temp = path + ".patching";
            File.WriteAllBytes(temp, bytes);
            // The file in bin/ may be a hard or symbolic link into the NuGet cache: replace the link, never write
            // through it.
            File.Delete(path);
            File.Move(temp, path);
            return true;
        }
        return false;
    }

    private static string ReadString(byte[] bytes, long at)
    {
        var end = (int)at;
        while (bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)at, end - (int)at);
    }
}
