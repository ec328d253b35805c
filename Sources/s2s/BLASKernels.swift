import Foundation
import S2STensor

/// Makes sure OpenBLAS runs its fast kernels. OpenBLAS picks kernels when it is loaded, before
/// `main`, from OPENBLAS_CORETYPE or its CPU table; when it fell back to generic SSE3 kernels
/// on a CPU it does not recognise, s2s restarts itself once with OPENBLAS_CORETYPE set
/// (its matrix products are several times faster). A user's own OPENBLAS_CORETYPE is always
/// respected.
enum BLASKernels {
    static func restartWithFastKernelsIfNeeded() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let coreType = BLAS.recommendedCoreType(currentCore: BLAS.coreName, vendor: CPUFeatures.vendor,
                                                      cpuFlags: CPUFeatures.flags)
        else { return }
        setenv("OPENBLAS_CORETYPE", coreType, 1)
        var arguments = CommandLine.arguments.map { strdup($0) }
        arguments.append(nil)
        execv("/proc/self/exe", &arguments)
        // execv returns only on failure: carry on with the slow kernels rather than fail.
    }
}
