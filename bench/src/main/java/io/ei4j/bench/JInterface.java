package io.ei4j.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * JInterface without a build-time dependency: the two classes that use it
 * ({@code JInterfaceCodec}, {@code JInterfaceBench}) ship as source resources under
 * {@code jinterface-src/} and are compiled here, once per JVM, with {@code javax.tools}
 * against the installed {@code OtpErlang.jar} ({@link ErlangInstall#jinterfaceJar()}).
 * Maven Central only has JInterface 1.6.1 from 2015; the version to compare with is the
 * one OTP installs.
 *
 * <p>Needs a JDK (a JRE has no system compiler): without one, {@link #classes()} fails
 * with an {@link IllegalStateException} that says so.
 */
public final class JInterface {
  private static final String SOURCES = "jinterface-src/io/ei4j/bench/jinterface/";
  private static final List<String> FILES = List.of("JInterfaceCodec.java", "JInterfaceBench.java");
  private static Path classes;

  private JInterface() {}

  /**
   * The directory of the compiled JInterface classes, compiled on first use into a
   * temporary directory that is deleted when the JVM exits.
   */
  public static synchronized Path classes() {
    if (classes == null) {
      JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
      if (javac == null) {
        throw new IllegalStateException("no system Java compiler: run the benchmarks on a JDK, not a JRE");
      }
      try {
        Path dir = Files.createTempDirectory("ei4j-bench-jinterface");
        Temp.deleteOnExit(dir);
        Path src = Files.createDirectories(dir.resolve("src"));
        Path out = Files.createDirectories(dir.resolve("classes"));
        List<String> args = new ArrayList<>(List.of("-nowarn", "-d", out.toString(), "-cp",
            ErlangInstall.jinterfaceJar() + java.io.File.pathSeparator + ownLocation()));
        for (String f : FILES) {
          try (InputStream in = JInterface.class.getClassLoader().getResourceAsStream(SOURCES + f)) {
            if (in == null) {
              throw new IllegalStateException("resource " + SOURCES + f + " is missing from the bench jar");
            }
            Path p = src.resolve(f);
            Files.write(p, in.readAllBytes());
            args.add(p.toString());
          }
        }
        java.io.StringWriter diagnostics = new java.io.StringWriter();
        int rc;
        try (Writer w = diagnostics) {
          rc = javac.run(null, null, new WriterStream(w), args.toArray(new String[0]));
        }
        if (rc != 0) {
          throw new IllegalStateException("compiling the JInterface classes against "
              + ErlangInstall.jinterfaceJar() + " failed:\n" + diagnostics);
        }
        classes = out;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return classes;
  }

  /** The class path of a child JVM that runs {@code JInterfaceBench}. */
  public static String childClassPath() {
    return classes() + java.io.File.pathSeparator + ErlangInstall.jinterfaceJar();
  }

  /** A new JInterface codec, loaded in its own class loader over the installed jar. */
  public static ForeignCodec codec() {
    try {
      URL[] urls = {classes().toUri().toURL(), ErlangInstall.jinterfaceJar().toUri().toURL()};
      // Not closed: the codec's classes stay loaded for the life of the JVM.
      @SuppressWarnings("resource")
      URLClassLoader loader = new URLClassLoader(urls, JInterface.class.getClassLoader());
      return loader.loadClass("io.ei4j.bench.jinterface.JInterfaceCodec")
          .asSubclass(ForeignCodec.class).getConstructor().newInstance();
    } catch (MalformedURLException e) {
      throw new IllegalStateException(e);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot load the compiled JInterface codec", e);
    }
  }

  private static Path ownLocation() {
    try {
      return Path.of(ForeignCodec.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Adapts a Writer to the OutputStream the compiler writes its diagnostics to. */
  private static final class WriterStream extends java.io.OutputStream {
    private final Writer w;

    WriterStream(Writer w) {
      this.w = w;
    }

    @Override
    public void write(int b) throws IOException {
      w.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      w.write(new String(b, off, len, StandardCharsets.UTF_8));
    }
  }
}
