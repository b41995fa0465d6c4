{
  "targets": [
    {
      "target_name": "edgeio",
      "sources": [
        "native/addon.cc",
        "native/addr.cc",
        "native/binding_selector.cc",
        "native/binding_net.cc",
        "native/binding_uds.cc",
        "native/binding_udp.cc",
        "native/loop.cc",
        "native/loop_unix.cc",
        "native/selector_epoll.cc",
        "native/sys_unix.cc",
        "native/sys_uds_unix.cc",
        "native/udp_unix.cc",
        "native/pool.cc",
        "native/binding_fs.cc",
        "native/binding_fs_nowait.cc",
        "native/dns.cc",
        "native/fs_unix.cc"
      ],
      "defines": ["NAPI_VERSION=8", "EDGEIO_SOURCE_HASH=<!(node native/source-hash.js)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-O2"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "10.15",
        "OTHER_CPLUSPLUSFLAGS": ["-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"]
      },
      "conditions": [
        ["OS=='mac' or OS=='freebsd' or OS=='openbsd' or OS=='netbsd'", {
          "sources!": ["native/selector_epoll.cc"],
          "sources": ["native/selector_kqueue.cc"]
        }],
        ["OS=='win'", {
          "sources!": ["native/loop_unix.cc", "native/selector_epoll.cc", "native/sys_unix.cc", "native/sys_uds_unix.cc", "native/udp_unix.cc", "native/fs_unix.cc"],
          "sources": [
            "native/afd_win.cc",
            "native/fs_win.cc",
            "native/iocp_win.cc",
            "native/loop_win.cc",
            "native/notifier_win.cc",
            "native/selector_win.cc",
            "native/sys_uds_win.cc",
            "native/sys_win.cc",
            "native/udp_win.cc",
            "native/waker_win.cc"
          ],
          "defines": ["WIN32_LEAN_AND_MEAN", "NOMINMAX", "_WIN32_WINNT=0x0602"],
          "libraries": ["-lws2_32"]
        }]
      ]
    }
  ]
}
