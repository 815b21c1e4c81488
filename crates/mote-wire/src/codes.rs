//! Open enums: registry code points whose unknown values survive a parse and emit unchanged.

/// Declares a registry of code points as a newtype with named constants. Unknown values are
/// representable (`CipherSuite(0x1234)`), print as hex, and round-trip.
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($repr:ty) {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $repr);

        #[allow(non_upper_case_globals)]
        impl $name {
            $( $(#[$vmeta])* pub const $variant: $name = $name($value); )*

            /// Every value this registry names.
            pub const KNOWN: &'static [$name] = &[ $( $name($value), )* ];

            /// The registry's name for this value, if known.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }

            /// Looks a value up by its registry name.
            pub fn from_name(name: &str) -> Option<$name> {
                match name {
                    $( $text => Some($name($value)), )*
                    _ => None,
                }
            }
        }

        impl $crate::reader::Code for $name {
            const WIDTH: usize = core::mem::size_of::<$repr>();
            fn from_u64(v: u64) -> Self {
                $name(v as $repr)
            }
            fn to_u64(self) -> u64 {
                self.0 as u64
            }
            fn name(self) -> Option<&'static str> {
                $name::name(self)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}(0x{:0w$x})", stringify!($name), self.0,
                                   w = 2 * core::mem::size_of::<$repr>()),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "unknown(0x{:0w$x})", self.0,
                                   w = 2 * core::mem::size_of::<$repr>()),
                }
            }
        }
    };
}
